//! Overrides: a value put at a path of the scenario's TOML text before it is validated.
//!
//! Paths are in the scenario's own terms: keys separated by dots, an element of an array
//! of tables by its `name` (`maintenance_window.prod-web-tuesday`) or by `[i]`
//! (`baseline.al2023-production.rule[0]`). Every step must exist, the last one included:
//! an override never adds a key, so a typo cannot be silently taken as a new setting.
//! The text is edited in place, so lines the override does not touch keep their numbers.

use toml_edit::{ArrayOfTables, DocumentMut, Item, TableLike, Value};

#[derive(Debug, PartialEq)]
enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

fn split(path: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.find('[').map_or((part, ""), |open| (&part[..open], &part[open..]));
        if key.is_empty() && rest.is_empty() {
            return Err(format!("`{path}`: empty step in the path"));
        }
        if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| format!("`{path}`: `[` without `]`"))?;
            let index =
                rest[1..close].parse().map_err(|_| format!("`{path}`: `{}` is not an index", &rest[1..close]))?;
            segments.push(Segment::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("`{path}`: expected `.` or `[` after `]`"));
            }
        }
    }
    Ok(segments)
}

enum Node<'a> {
    Table(&'a mut dyn TableLike),
    Tables(&'a mut ArrayOfTables),
    Array(&'a mut toml_edit::Array),
    Value(&'a mut Value),
}

fn item_node(item: &mut Item) -> Option<Node<'_>> {
    match item {
        Item::ArrayOfTables(tables) => Some(Node::Tables(tables)),
        Item::Value(Value::Array(array)) => Some(Node::Array(array)),
        Item::Value(Value::InlineTable(_)) | Item::Table(_) => item.as_table_like_mut().map(Node::Table),
        Item::Value(value) => Some(Node::Value(value)),
        Item::None => None,
    }
}

fn value_node(value: &mut Value) -> Node<'_> {
    match value {
        Value::Array(array) => Node::Array(array),
        Value::InlineTable(table) => Node::Table(table),
        other => Node::Value(other),
    }
}

fn named(table: &dyn TableLike) -> Option<&str> {
    table.get("name").and_then(Item::as_str)
}

/// One step down from `node`, appending the step in index form to `resolved`.
fn child<'a>(node: Node<'a>, segment: &Segment<'_>, resolved: &mut String) -> Result<Node<'a>, String> {
    match (node, segment) {
        (Node::Table(table), Segment::Key(key)) => {
            let names: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
            let item = table.get_mut(key).ok_or_else(|| format!("no key `{key}` here (keys: {})", names.join(", ")))?;
            resolved.push_str(&if resolved.is_empty() { key.to_string() } else { format!(".{key}") });
            item_node(item).ok_or_else(|| format!("`{key}` has no value"))
        }
        (Node::Tables(tables), Segment::Key(name)) => {
            let names: Vec<String> = tables.iter().filter_map(|t| named(t)).map(String::from).collect();
            let index = tables.iter().position(|t| named(t) == Some(name));
            let index = index.ok_or_else(|| format!("no element named `{name}` (names: {})", names.join(", ")))?;
            resolved.push_str(&format!("[{index}]"));
            Ok(Node::Table(tables.get_mut(index).expect("position found it")))
        }
        (Node::Array(array), Segment::Key(name)) => {
            let index = array.iter().position(|v| v.as_inline_table().and_then(|t| named(t)) == Some(name));
            let index = index.ok_or_else(|| format!("no element named `{name}`"))?;
            resolved.push_str(&format!("[{index}]"));
            Ok(value_node(array.get_mut(index).expect("position found it")))
        }
        (Node::Tables(tables), Segment::Index(index)) => {
            let len = tables.len();
            let table = tables.get_mut(*index).ok_or_else(|| format!("index {index} out of range ({len} elements)"))?;
            resolved.push_str(&format!("[{index}]"));
            Ok(Node::Table(table))
        }
        (Node::Array(array), Segment::Index(index)) => {
            let len = array.len();
            let value = array.get_mut(*index).ok_or_else(|| format!("index {index} out of range ({len} elements)"))?;
            resolved.push_str(&format!("[{index}]"));
            Ok(value_node(value))
        }
        (Node::Value(_), _) => Err("a plain value has no keys or elements".to_string()),
        (Node::Table(_), Segment::Index(index)) => Err(format!("`[{index}]`: this is a table, not an array")),
    }
}

/// Converts a value of the experiment file into an editable TOML value.
fn editable(value: &toml::Value) -> Result<Value, String> {
    let text = value.to_string();
    text.parse::<Value>().map_err(|e| format!("cannot write `{text}` as a TOML value: {e}"))
}

/// Puts `value` at `path` in `doc`. Returns the path in index form
/// (`maintenance_window[0].task[0].max_concurrency`), as scenario diagnostics name it.
pub(crate) fn apply(doc: &mut DocumentMut, path: &str, value: &toml::Value) -> Result<String, String> {
    let segments = split(path)?;
    let mut resolved = String::new();
    let mut current = Node::Table(doc.as_table_mut());
    for (step, segment) in segments.iter().enumerate() {
        let shown = if resolved.is_empty() { "the scenario".to_string() } else { format!("`{resolved}`") };
        current = child(current, segment, &mut resolved).map_err(|message| {
            format!("`{path}` does not exist in the base scenario: at step {} ({shown}): {message}", step + 1)
        })?;
    }
    let new = editable(value)?;
    match current {
        Node::Value(old) => {
            let decor = old.decor().clone();
            *old = new;
            *old.decor_mut() = decor;
            Ok(resolved)
        }
        Node::Array(old) if !matches!(new, Value::InlineTable(_)) => {
            let decor = old.decor().clone();
            let mut new = new;
            *new.decor_mut() = decor;
            // An array is replaced whole; the item that held it takes the new value.
            *old = match new {
                Value::Array(array) => array,
                other => return Err(format!("`{path}` is an array; give an array, not `{other}`")),
            };
            Ok(resolved)
        }
        _ => Err(format!("`{path}` is a table; override the keys inside it one by one")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[scenario]\nname = \"x\" # kept\n\n[[window]]\nname = \"a\"\nsize = 1\n\n[[window]]\nname = \"b\"\nsize = 2\nlist = [1, 2]\n";

    #[test]
    fn elements_are_found_by_name_or_index_and_lines_are_kept() {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        assert_eq!(apply(&mut doc, "window.b.size", &toml::Value::Integer(5)).unwrap(), "window[1].size");
        assert_eq!(apply(&mut doc, "window[0].size", &toml::Value::Integer(7)).unwrap(), "window[0].size");
        assert_eq!(apply(&mut doc, "window.b.list[1]", &toml::Value::Integer(9)).unwrap(), "window[1].list[1]");
        assert_eq!(apply(&mut doc, "scenario.name", &toml::Value::String("y".into())).unwrap(), "scenario.name");
        let out = doc.to_string();
        assert_eq!(
            out,
            TEXT.replace("size = 2", "size = 5")
                .replace("size = 1", "size = 7")
                .replace("[1, 2]", "[1, 9]")
                .replace("\"x\"", "\"y\"")
        );
    }

    #[test]
    fn a_missing_step_is_an_error_naming_what_exists() {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        let error = apply(&mut doc, "window.c.size", &toml::Value::Integer(5)).unwrap_err();
        assert!(error.contains("no element named `c` (names: a, b)"), "{error}");
        let error = apply(&mut doc, "window.a.colour", &toml::Value::Integer(5)).unwrap_err();
        assert!(error.contains("no key `colour`"), "{error}");
        let error = apply(&mut doc, "window[2].size", &toml::Value::Integer(5)).unwrap_err();
        assert!(error.contains("index 2 out of range (2 elements)"), "{error}");
        let error = apply(&mut doc, "window.a", &toml::Value::Integer(5)).unwrap_err();
        assert!(error.contains("is a table"), "{error}");
    }
}
