//! Members and enum values marked `unstable` in the schema are compiled in
//! with the `unstable` feature (on for these tests; without it they decode
//! as unknown, see the runtime's `impl_object!`/`impl_enum!` examples and
//! the codegen snapshots).

use qmp_types::{FromJson, MigrationCapability, ThrottleGroupProperties};
use serde_json::json;

#[test]
fn unstable_enum_values_are_known_with_the_feature() {
    assert_eq!(
        "x-colo".parse::<MigrationCapability>(),
        Ok(MigrationCapability::XColo)
    );
    assert!(MigrationCapability::ALL.contains(&MigrationCapability::XColo));
    // Stable values come first in ALL, then the gated ones.
    assert_eq!(
        MigrationCapability::ALL.last(),
        Some(&MigrationCapability::XIgnoreShared)
    );
}

#[test]
fn unstable_members_decode_with_the_feature() {
    let t = ThrottleGroupProperties::from_json(json!({"x-iops-total": 100})).unwrap();
    assert_eq!(t.x_iops_total, Some(100));
}
