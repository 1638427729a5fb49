//! Parsing a scenario file into [`ScenarioFile`], reporting every problem at once.
//!
//! The text is parsed once into a spanned TOML tree. Each section, and each element of an
//! array of tables, is then deserialized on its own, so one bad instance group does not hide
//! a bad window further down. The tree stays available to the validator, which looks up the
//! location of any key path it complains about.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::diagnostic::Collector;
use super::schema::ScenarioFile;

/// The sections a scenario file may contain, in the order the docs present them.
pub const SECTIONS: [&str; 19] = [
    "scenario",
    "agent",
    "account",
    "output",
    "resource_group",
    "location",
    "repository",
    "partition",
    "image",
    "auto_scaling_group",
    "alarm",
    "catalog",
    "profile",
    "instance_group",
    "baseline",
    "patch_group",
    "default_baselines",
    "maintenance_window",
    "association",
];

/// Finds the source location of key paths such as `instance_group[2].count`.
pub(crate) struct Locator<'i> {
    root: Spanned<DeTable<'i>>,
}

#[derive(Debug, PartialEq)]
enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(open) => (&part[..open], &part[open..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(index) = rest[1..close].parse() {
                segments.push(Segment::Index(index));
            }
            rest = &rest[close + 1..];
        }
    }
    segments
}

impl<'i> Locator<'i> {
    /// The span of the value at `path`, or of the deepest existing ancestor.
    pub(crate) fn span(&self, path: &str) -> Range<usize> {
        let mut span = self.root.span();
        let mut value: Option<&DeValue<'i>> = None;
        let mut table: Option<&DeTable<'i>> = Some(self.root.get_ref());
        for segment in split_path(path) {
            let next = match (segment, table, value) {
                (Segment::Key(key), Some(table), _) => table.get(key),
                (Segment::Index(index), _, Some(DeValue::Array(array))) => array.get(index),
                _ => None,
            };
            let Some(next) = next else { break };
            span = next.span();
            value = Some(next.get_ref());
            table = next.get_ref().as_table();
        }
        span
    }

    /// The deepest key path whose key or value contains `offset`.
    ///
    /// The spans of tables written as `[table]` or `[[array]]` cover only their headers, so
    /// the search descends into every table rather than only those whose span contains the
    /// offset.
    fn path_at(&self, offset: usize) -> String {
        fn inside(span: Range<usize>, offset: usize) -> bool {
            span.start <= offset && offset < span.end.max(span.start + 1)
        }
        fn search(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
            for (key, value) in table.iter() {
                let path =
                    if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
                match value.get_ref() {
                    DeValue::Table(inner) => {
                        if let Some(found) = search(inner, offset, &path) {
                            return Some(found);
                        }
                    }
                    DeValue::Array(array) => {
                        for (index, element) in array.iter().enumerate() {
                            let element_path = format!("{path}[{index}]");
                            if let DeValue::Table(inner) = element.get_ref()
                                && let Some(found) = search(inner, offset, &element_path)
                            {
                                return Some(found);
                            }
                            if inside(element.span(), offset) && !element.get_ref().is_table() {
                                return Some(element_path);
                            }
                        }
                    }
                    _ => {}
                }
                if inside(key.span(), offset) || inside(value.span(), offset) {
                    return Some(path);
                }
            }
            None
        }
        search(self.root.get_ref(), offset, "").unwrap_or_default()
    }
}

/// Parses `text` (named `file` in messages). Returns the typed file, or every problem found.
pub(crate) fn parse<'i>(
    text: &'i str,
    collector: &mut Collector<'_>,
) -> Option<(ScenarioFile, Locator<'i>, FailedSections)> {
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    for error in &syntax_errors {
        let span = error.span().unwrap_or(0..0);
        collector.push(span, "", error.message().trim_end_matches('\n').to_string());
    }
    if !syntax_errors.is_empty() {
        return None;
    }
    let locator = Locator { root };
    let mut file = ScenarioFile::default();
    let mut failed = FailedSections::default();
    let mut saw_scenario = false;
    for (key, value) in locator.root.get_ref().iter() {
        let name: &str = key.get_ref();
        let ok = match name {
            "scenario" => {
                saw_scenario = true;
                one(&locator, name, value, collector).map(|v| file.scenario = v).is_some()
            }
            "agent" => one(&locator, name, value, collector).map(|v| file.agent = v).is_some(),
            "account" => one(&locator, name, value, collector).map(|v| file.account = v).is_some(),
            "output" => one(&locator, name, value, collector).map(|v| file.output = v).is_some(),
            "resource_group" => many(&locator, name, value, collector, &mut file.resource_group),
            "location" => many(&locator, name, value, collector, &mut file.location),
            "repository" => many(&locator, name, value, collector, &mut file.repository),
            "partition" => many(&locator, name, value, collector, &mut file.partition),
            "image" => many(&locator, name, value, collector, &mut file.image),
            "auto_scaling_group" => many(&locator, name, value, collector, &mut file.auto_scaling_group),
            "alarm" => many(&locator, name, value, collector, &mut file.alarm),
            "default_baselines" => one(&locator, name, value, collector).map(|v| file.default_baselines = v).is_some(),
            "catalog" => many(&locator, name, value, collector, &mut file.catalog),
            "profile" => many(&locator, name, value, collector, &mut file.profile),
            "instance_group" => many(&locator, name, value, collector, &mut file.instance_group),
            "baseline" => many(&locator, name, value, collector, &mut file.baseline),
            "patch_group" => many(&locator, name, value, collector, &mut file.patch_group),
            "maintenance_window" => many(&locator, name, value, collector, &mut file.maintenance_window),
            "association" => many(&locator, name, value, collector, &mut file.association),
            _ => {
                collector.push(
                    key.span(),
                    name,
                    format!("unknown section `{name}`; expected one of: {}", SECTIONS.join(", ")),
                );
                true
            }
        };
        if !ok {
            failed.0.push(name.to_string());
        }
    }
    if !saw_scenario {
        collector.push(0..0, "scenario", "missing section [scenario] (name, start, horizon, seed)");
        failed.0.push("scenario".into());
    }
    Some((file, locator, failed))
}

/// Sections in which at least one element could not be read; references into them are not
/// checked, so that one typo does not cascade into a list of unknown names.
#[derive(Default)]
pub(crate) struct FailedSections(Vec<String>);

impl FailedSections {
    pub(crate) fn contains(&self, section: &str) -> bool {
        self.0.iter().any(|s| s == section)
    }
}

fn report(locator: &Locator<'_>, fallback: Range<usize>, error: toml::de::Error, collector: &mut Collector<'_>) {
    let span = error.span().unwrap_or(fallback);
    let path = locator.path_at(span.start);
    collector.push(span, &path, error.message().trim_end_matches('\n').to_string());
}

fn one<T: DeserializeOwned>(
    locator: &Locator<'_>,
    name: &str,
    value: &Spanned<DeValue<'_>>,
    collector: &mut Collector<'_>,
) -> Option<T> {
    if !value.get_ref().is_table() {
        collector.push(value.span(), name, format!("`{name}` must be a table, written [{name}]"));
        return None;
    }
    match T::deserialize(ValueDeserializer::from(value.clone())) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            report(locator, value.span(), error, collector);
            None
        }
    }
}

fn many<T: DeserializeOwned>(
    locator: &Locator<'_>,
    name: &str,
    value: &Spanned<DeValue<'_>>,
    collector: &mut Collector<'_>,
    out: &mut Vec<T>,
) -> bool {
    let Some(array) = value.get_ref().as_array() else {
        collector.push(value.span(), name, format!("`{name}` must be an array of tables, written [[{name}]]"));
        return false;
    };
    let mut all_ok = true;
    for (index, element) in array.iter().enumerate() {
        if !element.get_ref().is_table() {
            collector.push(element.span(), &format!("{name}[{index}]"), "expected a table");
            all_ok = false;
            continue;
        }
        match T::deserialize(ValueDeserializer::from(element.clone())) {
            Ok(parsed) => out.push(parsed),
            Err(error) => {
                report(locator, element.span(), error, collector);
                all_ok = false;
            }
        }
    }
    all_ok
}

/// Why a text file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read at all.
    Io(std::io::Error),
    /// The file is larger than `limits::MAX_SCENARIO_BYTES`.
    TooLarge(u64),
    /// The bytes are not UTF-8: where the first bad sequence starts.
    NotUtf8 { offset: usize, line: usize, column: usize, byte: u8 },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(error) => write!(f, "cannot read the file: {error}"),
            ReadError::TooLarge(size) => write!(
                f,
                "the file has {size} bytes; at most {} are read (limits::MAX_SCENARIO_BYTES)",
                crate::limits::MAX_SCENARIO_BYTES
            ),
            ReadError::NotUtf8 { offset, line, column, byte } => write!(
                f,
                "{line}:{column}: not UTF-8 text: byte 0x{byte:02x} at byte offset {offset} does not start or \
                 continue a UTF-8 character"
            ),
        }
    }
}

impl ReadError {
    /// The message prefixed by the file's name: `name:line:column: ...` for a bad byte,
    /// `name: ...` otherwise.
    pub fn located(&self, name: &str) -> String {
        let separator = if matches!(self, ReadError::NotUtf8 { .. }) { ":" } else { ": " };
        format!("{name}{separator}{self}")
    }
}

/// Reads a whole text file: at most `limits::MAX_SCENARIO_BYTES`, and UTF-8.
pub fn read_text(path: &std::path::Path) -> Result<String, ReadError> {
    use std::io::Read;
    let limit = crate::limits::MAX_SCENARIO_BYTES;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(ReadError::TooLarge(size));
    }
    decode_text(bytes)
}

/// The bytes as a string, or the line, column and offset of the first invalid UTF-8 byte.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let valid = std::str::from_utf8(&bytes[..offset]).expect("the prefix up to valid_up_to is UTF-8");
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
        ReadError::NotUtf8 { offset, line, column, byte: bytes[offset] }
    })
}

/// The 1-based line and column of the value at `path` (or of its nearest existing
/// ancestor) in scenario `text`; `None` if the text does not parse.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return None;
    }
    let span = Locator { root }.span(path);
    Some(super::diagnostic::LineIndex::new(text).line_column(span.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_split_into_keys_and_indices() {
        assert_eq!(
            split_path("instance_group[2].tags.Role"),
            vec![Segment::Key("instance_group"), Segment::Index(2), Segment::Key("tags"), Segment::Key("Role")]
        );
        assert_eq!(
            split_path("a.b[0][1]"),
            vec![Segment::Key("a"), Segment::Key("b"), Segment::Index(0), Segment::Index(1)]
        );
    }

    #[test]
    fn the_locator_finds_values_and_falls_back_to_the_nearest_ancestor() {
        let text = "[scenario]\nname = \"x\"\n\n[[instance_group]]\nname = \"a\"\n\n[[instance_group]]\nname = \"b\"\ncount = 5\n";
        let (root, errors) = DeTable::parse_recoverable(text);
        assert!(errors.is_empty());
        let locator = Locator { root };
        let count = locator.span("instance_group[1].count");
        assert_eq!(&text[count.clone()], "5");
        assert_eq!(locator.path_at(count.start), "instance_group[1].count");
        // A missing key falls back to its table, whose span is its `[[...]]` header.
        let missing = locator.span("instance_group[0].count");
        assert_eq!(&text[missing.clone()], "[[instance_group]]");
        assert_eq!(missing.start, text.find("[[instance_group]]").unwrap());
    }

    #[test]
    fn invalid_utf8_is_reported_at_its_line_column_and_offset() {
        let bytes = b"[scenario]\nname = \"\xc3\xa9t\xff\"\n".to_vec();
        match decode_text(bytes) {
            Err(ReadError::NotUtf8 { offset, line, column, byte }) => {
                assert_eq!((offset, line, column, byte), (22, 2, 11, 0xff));
            }
            other => panic!("expected a UTF-8 error, got {other:?}"),
        }
        assert_eq!(decode_text(b"a = 1\n".to_vec()).unwrap(), "a = 1\n");
    }

    #[test]
    fn locate_gives_the_line_and_column_of_a_key_path() {
        let text = "[scenario]\nname = \"x\"\n\n[[association]]\nschedule = \"rate(1 day)\"\n";
        assert_eq!(locate(text, "association[0].schedule"), Some((5, 12)));
        assert_eq!(locate(text, "association[0]"), Some((4, 1)));
        assert_eq!(locate("[broken", "scenario"), None);
    }
}
