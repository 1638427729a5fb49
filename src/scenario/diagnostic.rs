//! Problems found in a scenario file, each with its file, line, column and key path.

use std::fmt;
use std::ops::Range;

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (or `<embedded default>`).
    pub file: String,
    /// 1-based line and column of the offending value, or of its nearest enclosing table.
    pub line: usize,
    pub column: usize,
    /// Where in the document, e.g. `instance_group[2].count`; empty for syntax errors.
    pub key_path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key_path.is_empty() {
            write!(f, "{}: ", self.key_path)?;
        }
        f.write_str(&self.message)
    }
}

/// All problems found in one file, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Turns byte offsets into 1-based line and column (columns count characters).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        LineIndex { text, line_starts }
    }

    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

/// Collects diagnostics for one file.
pub(crate) struct Collector<'a> {
    pub(crate) file: String,
    index: LineIndex<'a>,
    pub(crate) found: Vec<(usize, Diagnostic)>,
    /// Warnings: legal but rarely meant; they never make a file invalid.
    pub(crate) warnings: Vec<(usize, Diagnostic)>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(file: &str, text: &'a str) -> Collector<'a> {
        Collector { file: file.to_string(), index: LineIndex::new(text), found: Vec::new(), warnings: Vec::new() }
    }

    fn diagnostic(&self, span: &Range<usize>, key_path: &str, message: String) -> (usize, Diagnostic) {
        let (line, column) = self.index.line_column(span.start);
        let diagnostic = Diagnostic { file: self.file.clone(), line, column, key_path: key_path.to_string(), message };
        (span.start, diagnostic)
    }

    pub(crate) fn push(&mut self, span: Range<usize>, key_path: &str, message: impl Into<String>) {
        let found = self.diagnostic(&span, key_path, message.into());
        self.found.push(found);
    }

    pub(crate) fn warn(&mut self, span: Range<usize>, key_path: &str, message: impl Into<String>) {
        let warning = self.diagnostic(&span, key_path, message.into());
        self.warnings.push(warning);
    }

    /// The warnings so far, sorted by position.
    pub(crate) fn take_warnings(&mut self) -> Vec<Diagnostic> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.sort_by_key(|(offset, _)| *offset);
        warnings.into_iter().map(|(_, d)| d).collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The diagnostics sorted by position; equal positions keep the order they were found in.
    pub(crate) fn finish(mut self) -> Diagnostics {
        self.found.sort_by_key(|(offset, _)| *offset);
        Diagnostics(self.found.into_iter().map(|(_, d)| d).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_character_columns() {
        let index = LineIndex::new("ab\nçd\n\nx");
        assert_eq!(index.line_column(0), (1, 1));
        assert_eq!(index.line_column(1), (1, 2));
        assert_eq!(index.line_column(3), (2, 1));
        // `ç` is two bytes: the `d` after it is column 2.
        assert_eq!(index.line_column(5), (2, 2));
        assert_eq!(index.line_column(7), (3, 1));
        assert_eq!(index.line_column(8), (4, 1));
        assert_eq!(index.line_column(99), (4, 2));
    }
}
