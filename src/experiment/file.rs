//! The experiment file: TOML with unknown keys refused, every problem located.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::scenario::Diagnostic;

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExperimentFile {
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
    pub base: Option<Spanned<String>>,
    pub replications: Option<Spanned<u64>>,
    pub seeds: Option<Spanned<Vec<u64>>>,
    pub metrics: Spanned<Vec<Spanned<String>>>,
    pub reference: Option<Spanned<String>>,
    #[serde(default)]
    pub variant: Vec<VariantEntry>,
    #[serde(default)]
    pub sweep: Vec<SweepEntry>,
    #[serde(default)]
    pub threshold: Vec<ThresholdEntry>,
}

/// `[[threshold]]`: a bound on a statistic of one variant's metric.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThresholdEntry {
    pub variant: Spanned<String>,
    pub metric: Spanned<String>,
    pub statistic: Option<Spanned<String>>,
    pub min: Option<Spanned<crate::scenario::schema::BoundSpec>>,
    pub max: Option<Spanned<crate::scenario::schema::BoundSpec>>,
}

/// `[[variant]]`: a name and overrides by path.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VariantEntry {
    pub name: Spanned<String>,
    #[serde(default)]
    pub overrides: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

/// `[[sweep]]`: every combination of the listed values is a variant.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepEntry {
    pub parameters: Spanned<BTreeMap<Spanned<String>, Spanned<Vec<toml::Value>>>>,
}

/// Turns byte offsets of one text into located diagnostics.
pub(crate) struct Place<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Place<'_> {
    /// A diagnostic at byte `offset`.
    pub fn at(&self, offset: usize, key_path: &str, message: impl Into<String>) -> Diagnostic {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
        Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            key_path: key_path.to_string(),
            message: message.into(),
        }
    }
}

/// Parses the text, or says where it is malformed.
pub(crate) fn parse(place: &Place<'_>) -> Result<ExperimentFile, Diagnostic> {
    toml::from_str(place.text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        place.at(offset, "", error.message().trim_end_matches('\n').to_string())
    })
}
