//! The JSON view of a checked model (`qmp schema dump --format json`).

use qmp_schema::{CheckOptions, Level, ParseOptions, check, dump_json, parse_str};

#[test]
fn json_view_of_a_small_schema() {
    let text = "\
##
# @Colour:
#
# @red: warm
# @blue: cold
#
# Since: 1.0
##
{ 'enum': 'Colour', 'data': [ 'red', { 'name': 'blue', 'if': 'CONFIG_BLUE' } ] }

##
# @Base:
#
# @kind: the colour
##
{ 'struct': 'Base', 'data': { 'kind': 'Colour' } }

##
# @Paint:
#
# A paint.
##
{ 'union': 'Paint', 'base': 'Base', 'discriminator': 'kind',
  'data': { 'red': 'Red' } }

##
# @Red:
#
# @shade: how red
##
{ 'struct': 'Red', 'data': { '*shade': 'int' } }

##
# @paint:
#
# @what: the paint
#
# @coats: how many
#
# Features:
#
# @unstable: experimental
#
# Since: 2.0
##
{ 'command': 'paint', 'data': { 'what': 'Paint', 'coats': ['int'] },
  'returns': 'Red', 'features': [ 'unstable' ] }
";
    let opts = ParseOptions {
        level: Some(Level::new(10, 0)),
        ..ParseOptions::default()
    };
    let parsed = parse_str("paint.json", text, &opts).expect("parses");
    let model = check(parsed, &CheckOptions::default()).expect("checks");
    let json = serde_json::to_string_pretty(&dump_json(&model)).expect("serialises");
    insta::assert_snapshot!(json);
}
