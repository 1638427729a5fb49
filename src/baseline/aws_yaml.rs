//! CloudFormation YAML: read into the JSON value the importer takes.
//!
//! CloudFormation's YAML short forms of intrinsic functions (`!Ref x`, `!Sub ...`,
//! `!GetAtt a.b`) become their JSON forms (`{"Ref": x}`, `{"Fn::Sub": ...}`), so the
//! importer rejects them with the same message as in a JSON template.

use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;

/// Parses YAML text into a JSON value, or says where and why it is not valid.
pub fn parse(text: &str) -> Result<Value, String> {
    let yaml: Yaml = serde_norway::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    to_json(yaml, "$")
}

fn to_json(yaml: Yaml, path: &str) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n, path)?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            let items = items.into_iter().enumerate().map(|(i, item)| to_json(item, &format!("{path}[{i}]")));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(mapping) => {
            let mut out = Map::new();
            for (key, value) in mapping {
                let Yaml::String(key) = key else {
                    return Err(format!("{path}: a mapping key is {}, expected a string", kind(&key)));
                };
                let value = to_json(value, &format!("{path}.{key}"))?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            let function = if name == "Ref" || name == "Condition" { name.to_string() } else { format!("Fn::{name}") };
            let mut out = Map::new();
            out.insert(function, to_json(tagged.value, path)?);
            Value::Object(out)
        }
    })
}

fn number(n: &serde_norway::Number, path: &str) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Number(i.into()));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Value::Number(u.into()));
    }
    n.as_f64()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("{path}: {n} is not a finite number"))
}

fn kind(yaml: &Yaml) -> &'static str {
    match yaml {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a sequence",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}
