//! Capability answers equal what the raw schema says: for every command,
//! event, member (of every object type: command arguments, return types,
//! event data and everything they reach), union branch and enum value of
//! each release's saved `query-qmp-schema` reply (QEMU 5.2.0, 10.0.2,
//! 11.1.3; `qemu-system-x86_64` and `qemu-storage-daemon`), and for every
//! name that does not exist there but exists in another release.
//!
//! The expected answers are computed here, directly from the JSON (plain
//! scans, no shared code with `qmp_client::caps`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use qmp_client::caps::{Capabilities, Lacking, PathMatch};
use serde_json::{Value, json};

const RELEASES: [&str; 3] = ["5.2.0", "10.0.2", "11.1.3"];
const BINARIES: [&str; 2] = ["qemu-system-x86_64", "qemu-storage-daemon"];

/// `../shared` beside the workspace, else `$QMP_SHARED`. `None` (with a
/// visible note) when absent outside CI; a failure under CI.
fn introspection() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")];
    if let Some(s) = std::env::var_os("QMP_SHARED") {
        candidates.insert(0, PathBuf::from(s));
    }
    for c in candidates {
        let d = c.join("qemu/introspection");
        if d.join("5.2.0/qemu-system-x86_64.json").is_file() {
            return Some(d);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the saved introspection replies are required under CI (set QMP_SHARED)"
    );
    eprintln!("SKIPPED: saved introspection replies not found (set QMP_SHARED)");
    None
}

struct Release {
    label: String,
    raw: Vec<Value>,
    caps: Capabilities,
}

impl Release {
    fn get(&self, name: &str) -> Option<&Value> {
        self.raw.iter().find(|e| e["name"] == name)
    }

    fn of_meta<'a>(&'a self, meta: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.raw.iter().filter(move |e| e["meta-type"] == meta)
    }

    /// The entry `e[key]` names, through arrays.
    fn deref(&self, e: &Value, key: &str) -> Option<&Value> {
        let mut t = self.get(e[key].as_str()?)?;
        while t["meta-type"] == "array" {
            t = self.get(t["element-type"].as_str()?)?;
        }
        Some(t)
    }
}

fn members(t: Option<&Value>) -> Vec<&Value> {
    match t {
        Some(t) if t["meta-type"] == "object" => t["members"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn member_names(t: Option<&Value>) -> BTreeSet<String> {
    members(t)
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

fn enum_values(t: &Value) -> BTreeSet<String> {
    let from_members = t["members"]
        .as_array()
        .map(|a| a.iter().map(|m| m["name"].as_str().unwrap().to_owned()));
    let from_values = t["values"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()));
    let mut out: BTreeSet<String> = from_members.into_iter().flatten().collect();
    out.extend(from_values.into_iter().flatten());
    out
}

fn load_all() -> Option<Vec<Release>> {
    let dir = introspection()?;
    let mut out = Vec::new();
    for r in RELEASES {
        let versions: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(r).join("query-version.json")).unwrap(),
        )
        .unwrap();
        for b in BINARIES {
            let text = std::fs::read_to_string(dir.join(r).join(format!("{b}.json"))).unwrap();
            let raw: Value = serde_json::from_str(&text).unwrap();
            let version = serde_json::from_value(versions[b].clone()).ok();
            let caps = Capabilities::from_reply(raw.clone(), version).unwrap();
            let raw = raw.as_array().unwrap().clone();
            out.push(Release {
                label: format!("{r}/{b}"),
                raw,
                caps,
            });
        }
    }
    Some(out)
}

/// Every name of a kind across all releases (the negative candidates).
fn universe(all: &[Release], f: impl Fn(&Release) -> Vec<String>) -> BTreeSet<String> {
    let mut u: BTreeSet<String> = all.iter().flat_map(f).collect();
    u.insert("x-no-such-name".to_owned());
    u.insert(String::new());
    u
}

#[test]
fn versions_are_read() {
    let Some(all) = load_all() else { return };
    for r in &all {
        let want = r.label.split('/').next().unwrap();
        assert_eq!(r.caps.version_string(), want, "{}", r.label);
    }
}

#[test]
fn commands_and_events() {
    let Some(all) = load_all() else { return };
    let names = universe(&all, |r| {
        r.raw
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    });
    let mut checked = 0usize;
    for r in &all {
        for n in &names {
            let meta = r.get(n).map(|e| e["meta-type"].as_str().unwrap());
            assert_eq!(
                r.caps.has_command(n),
                meta == Some("command"),
                "{} {n}",
                r.label
            );
            assert_eq!(
                r.caps.has_event(n),
                meta == Some("event"),
                "{} {n}",
                r.label
            );
            // The first path component is any entry name.
            let first = n.split('/').next().unwrap_or("");
            if !n.is_empty() && first == n {
                assert_eq!(r.caps.has_path(n), meta.is_some(), "{} {n}", r.label);
            }
            checked += 2;
        }
        let cmds: Vec<_> = r
            .of_meta("command")
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            r.caps.commands().collect::<BTreeSet<_>>(),
            cmds.into_iter().collect()
        );
        let evs: Vec<_> = r
            .of_meta("event")
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            r.caps.events().collect::<BTreeSet<_>>(),
            evs.into_iter().collect()
        );
    }
    eprintln!("commands/events: {checked} answers checked");
}

#[test]
fn members_of_every_object_type() {
    let Some(all) = load_all() else { return };
    let names = universe(&all, |r| {
        r.of_meta("object")
            .flat_map(|t| member_names(Some(t)))
            .collect()
    });
    let mut checked = 0usize;
    for r in &all {
        for t in r.of_meta("object") {
            let ty = t["name"].as_str().unwrap();
            let have = member_names(Some(t));
            for n in &names {
                assert_eq!(
                    r.caps.has_member(ty, n),
                    have.contains(n),
                    "{} {ty}.{n}",
                    r.label
                );
                checked += 1;
            }
            let cases: BTreeSet<&str> = t["variants"]
                .as_array()
                .map(|vs| vs.iter().map(|v| v["case"].as_str().unwrap()).collect())
                .unwrap_or_default();
            for c in &cases {
                assert!(r.caps.has_variant(ty, c), "{} {ty} +{c}", r.label);
            }
            assert!(!r.caps.has_variant(ty, "x-no-such-case"));
        }
        // Types that are not objects have no members.
        for t in r.raw.iter().filter(|e| e["meta-type"] != "object") {
            let ty = t["name"].as_str().unwrap();
            assert!(!r.caps.has_member(ty, "name"), "{} {ty}", r.label);
        }
    }
    eprintln!("object members: {checked} answers checked");
}

#[test]
fn arguments_returns_and_event_data() {
    let Some(all) = load_all() else { return };
    let names = universe(&all, |r| {
        r.of_meta("object")
            .flat_map(|t| member_names(Some(t)))
            .collect()
    });
    let mut checked = 0usize;
    for r in &all {
        for c in r.of_meta("command") {
            let cmd = c["name"].as_str().unwrap();
            let args = r.deref(c, "arg-type");
            let rets = r.deref(c, "ret-type");
            let arg_names = member_names(args);
            let ret_names = member_names(rets);
            for n in &names {
                assert_eq!(
                    r.caps.has_argument(cmd, n),
                    arg_names.contains(n),
                    "{} {cmd} {n}",
                    r.label
                );
                assert_eq!(
                    r.caps.has_return_member(cmd, n),
                    ret_names.contains(n),
                    "{} {cmd} -> {n}",
                    r.label
                );
                checked += 2;
            }
            // The same through libvirt paths, with `*` for optional ones.
            for m in members(args) {
                let n = m["name"].as_str().unwrap();
                let optional = m.get("default").is_some();
                let p = format!("{cmd}/arg-type/{n}");
                assert!(
                    matches!(r.caps.path(&p), Ok(Some(PathMatch::Type(_)))),
                    "{} {p}",
                    r.label
                );
                let p = format!("{cmd}/arg-type/*{n}");
                assert_eq!(r.caps.has_path(&p), optional, "{} {p}", r.label);
                checked += 2;
            }
            assert!(!r.caps.has_path(&format!("{cmd}/arg-type/x-no-such-name")));
        }
        for e in r.of_meta("event") {
            let ev = e["name"].as_str().unwrap();
            let data = member_names(r.deref(e, "arg-type"));
            for n in &names {
                assert_eq!(
                    r.caps.has_event_member(ev, n),
                    data.contains(n),
                    "{} {ev} {n}",
                    r.label
                );
                checked += 1;
            }
        }
    }
    eprintln!("arguments/returns/event data: {checked} answers checked");
}

#[test]
fn enum_values_of_every_enum() {
    let Some(all) = load_all() else { return };
    let values = universe(&all, |r| r.of_meta("enum").flat_map(enum_values).collect());
    let mut checked = 0usize;
    for r in &all {
        for t in r.of_meta("enum") {
            let ty = t["name"].as_str().unwrap();
            let have = enum_values(t);
            for v in &values {
                assert_eq!(
                    r.caps.has_enum_value(ty, v),
                    have.contains(v),
                    "{} {ty} {v}",
                    r.label
                );
                checked += 1;
            }
            let listed: BTreeSet<String> = r
                .caps
                .enum_values(ty)
                .unwrap()
                .into_iter()
                .map(str::to_owned)
                .collect();
            assert_eq!(listed, have, "{} {ty}", r.label);
            // Features of enum values (QEMU 6.2+), through paths.
            for m in t["members"].as_array().into_iter().flatten() {
                let v = m["name"].as_str().unwrap();
                for f in m["features"].as_array().into_iter().flatten() {
                    let p = format!("{ty}/^{v}/${}", f.as_str().unwrap());
                    assert!(r.caps.has_path(&p), "{} {p}", r.label);
                }
                assert!(!r.caps.has_path(&format!("{ty}/^{v}/$x-no-such-feature")));
            }
        }
        // Enum-typed arguments, through paths: `cmd/arg-type/m/^v`.
        for c in r.of_meta("command") {
            let cmd = c["name"].as_str().unwrap();
            for m in members(r.deref(c, "arg-type")) {
                let Some(t) = r.get(m["type"].as_str().unwrap()) else {
                    continue;
                };
                if t["meta-type"] != "enum" {
                    continue;
                }
                let n = m["name"].as_str().unwrap();
                for v in enum_values(t) {
                    let p = format!("{cmd}/arg-type/{n}/^{v}");
                    assert!(r.caps.has_path(&p), "{} {p}", r.label);
                    checked += 1;
                }
                assert!(
                    !r.caps
                        .has_path(&format!("{cmd}/arg-type/{n}/^x-no-such-value"))
                );
            }
        }
    }
    eprintln!("enum values: {checked} answers checked");
}

/// For each pair of releases of one binary: every command, argument member
/// and enum-typed argument value the newer one has and the older one lacks
/// is refused on the older one, naming it; what both have passes.
#[test]
fn calls_are_refused_for_what_an_older_release_lacks() {
    let Some(all) = load_all() else { return };
    let mut refused = 0usize;
    let mut passed = 0usize;
    for old in &all {
        for new in &all {
            let same_binary = old.label.split('/').nth(1) == new.label.split('/').nth(1);
            if !same_binary {
                continue;
            }
            for c in new.of_meta("command") {
                let cmd = c["name"].as_str().unwrap();
                let Some(oc) = old.get(cmd).filter(|e| e["meta-type"] == "command") else {
                    assert_eq!(old.caps.check_call(cmd, None), Err(Lacking::Command));
                    refused += 1;
                    continue;
                };
                let old_args = old.deref(oc, "arg-type");
                let old_names = member_names(old_args);
                // Every member the old release has, all at once (values that
                // fit any type: null is left for QEMU to judge).
                let all_old: serde_json::Map<String, Value> =
                    old_names.iter().map(|n| (n.clone(), Value::Null)).collect();
                assert_eq!(
                    old.caps.check_call(cmd, Some(&Value::Object(all_old))),
                    Ok(()),
                    "{} {cmd}",
                    old.label
                );
                passed += 1;
                for m in members(new.deref(c, "arg-type")) {
                    let n = m["name"].as_str().unwrap();
                    let args = json!({ n: null });
                    if old_names.contains(n) {
                        assert_eq!(old.caps.check_call(cmd, Some(&args)), Ok(()));
                        passed += 1;
                        // Enum values of the member that the old one lacks.
                        let ot = old_args
                            .and_then(|a| members(Some(a)).into_iter().find(|om| om["name"] == n))
                            .and_then(|om| old.get(om["type"].as_str().unwrap()))
                            .filter(|t| t["meta-type"] == "enum");
                        let nt = new
                            .get(m["type"].as_str().unwrap())
                            .filter(|t| t["meta-type"] == "enum");
                        if let (Some(ot), Some(nt)) = (ot, nt) {
                            let ov = enum_values(ot);
                            for v in enum_values(nt) {
                                let got = old.caps.check_call(cmd, Some(&json!({ n: v })));
                                if ov.contains(&v) {
                                    assert_eq!(got, Ok(()));
                                    passed += 1;
                                } else {
                                    assert_eq!(
                                        got,
                                        Err(Lacking::Value {
                                            path: format!(".{n}"),
                                            value: v.clone()
                                        }),
                                        "{} {cmd} {n}={v}",
                                        old.label
                                    );
                                    refused += 1;
                                }
                            }
                        }
                    } else {
                        assert_eq!(
                            old.caps.check_call(cmd, Some(&args)),
                            Err(Lacking::Member {
                                path: format!(".{n}")
                            }),
                            "{} {cmd} {n}",
                            old.label
                        );
                        refused += 1;
                    }
                }
            }
        }
    }
    eprintln!("cross-release calls: {refused} refused, {passed} passed");
    assert!(refused > 100, "{refused}");
}

/// The example from the issue, on each release of the system emulator.
#[test]
fn libvirt_example_path() {
    let Some(all) = load_all() else { return };
    for r in all.iter().filter(|r| r.label.ends_with("x86_64")) {
        let has = r.caps.has_path("blockdev-add/arg-type/+file/aio-max-batch");
        // Computed from the raw reply.
        let add = r.get("blockdev-add").unwrap();
        let opts = r.deref(add, "arg-type").unwrap();
        let file = opts["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["case"] == "file")
            .and_then(|v| r.get(v["type"].as_str().unwrap()));
        assert_eq!(
            has,
            member_names(file).contains("aio-max-batch"),
            "{}",
            r.label
        );
        assert_eq!(has, !r.label.starts_with("5.2"), "{}", r.label);
    }
}
