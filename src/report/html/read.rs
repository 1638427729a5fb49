//! Reading a results directory back for the report: `summary.json` and the CSV files the
//! charts need, columns found by their header names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ReportError;
use crate::report::RESULTS_FORMAT;

/// The files the report reads; a directory without any of them is not complete.
pub const REQUIRED: [&str; 6] =
    ["summary.json", "compliance.csv", "windows.csv", "repository.csv", "asg.csv", "exposure.csv"];

/// A CSV file as rows of text, with its columns by name.
pub struct Table {
    pub path: PathBuf,
    columns: HashMap<String, usize>,
    pub rows: Vec<csv::StringRecord>,
}

impl Table {
    fn read(path: PathBuf) -> Result<Table, ReportError> {
        let bad = |message: String| ReportError::Malformed { path: path.clone(), message };
        let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
        let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
        let columns = headers.iter().enumerate().map(|(i, h)| (h.to_string(), i)).collect();
        let rows = reader.records().collect::<Result<Vec<_>, _>>().map_err(|e| bad(e.to_string()))?;
        Ok(Table { path, columns, rows })
    }

    /// The index of column `name`, or an error naming the file and the column.
    pub fn column(&self, name: &str) -> Result<usize, ReportError> {
        self.columns
            .get(name)
            .copied()
            .ok_or_else(|| ReportError::Malformed { path: self.path.clone(), message: format!("no column `{name}`") })
    }

    /// Column `name` of every row as numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, ReportError> {
        let column = self.column(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(line, row)| {
                let text = row.get(column).unwrap_or("");
                text.parse::<f64>().map_err(|_| ReportError::Malformed {
                    path: self.path.clone(),
                    message: format!("line {}: `{name}` is `{text}`, not a number", line + 2),
                })
            })
            .collect()
    }

    /// Column `name` of every row as text.
    pub fn texts(&self, name: &str) -> Result<Vec<&str>, ReportError> {
        let column = self.column(name)?;
        Ok(self.rows.iter().map(|row| row.get(column).unwrap_or("")).collect())
    }

    /// Column `name` of every row as days since `start`; empty cells are `None`.
    pub fn days(&self, name: &str, start: i64) -> Result<Vec<Option<f64>>, ReportError> {
        let texts = self.texts(name)?;
        texts
            .iter()
            .enumerate()
            .map(|(line, text)| {
                if text.is_empty() {
                    return Ok(None);
                }
                let seconds = parse_instant(text).ok_or_else(|| ReportError::Malformed {
                    path: self.path.clone(),
                    message: format!("line {}: `{name}` is `{text}`, not an RFC 3339 instant", line + 2),
                })?;
                Ok(Some((seconds - start) as f64 / 86_400.0))
            })
            .collect()
    }
}

pub fn parse_instant(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// A results directory as the report reads it.
pub struct Results {
    pub summary: serde_json::Value,
    /// The scenario's start, seconds since the epoch.
    pub start: i64,
    pub compliance: Table,
    pub windows: Table,
    pub repository: Table,
    pub asg: Table,
    pub exposure: Table,
}

impl Results {
    /// Reads `dir`, refusing a directory that lacks a file or has another format.
    pub fn read(dir: &Path) -> Result<Results, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::NotResults {
                dir: dir.to_path_buf(),
                missing: "the directory itself (it does not exist or is not a directory)".into(),
            });
        }
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
        if !missing.is_empty() {
            return Err(ReportError::NotResults { dir: dir.to_path_buf(), missing: missing.join(", ") });
        }
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ReportError::Malformed { path: path.clone(), message: e.to_string() })?;
        let summary: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ReportError::Malformed { path: path.clone(), message: e.to_string() })?;
        let format = summary.get("results_format").and_then(|v| v.as_u64());
        if format != Some(RESULTS_FORMAT as u64) {
            let version = summary.get("version").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
            return Err(ReportError::Format { dir: dir.to_path_buf(), found: format, version });
        }
        let start = summary
            .get("start")
            .and_then(|v| v.as_str())
            .and_then(parse_instant)
            .ok_or_else(|| ReportError::Malformed { path: path.clone(), message: "no valid `start`".into() })?;
        Ok(Results {
            summary,
            start,
            compliance: Table::read(dir.join("compliance.csv"))?,
            windows: Table::read(dir.join("windows.csv"))?,
            repository: Table::read(dir.join("repository.csv"))?,
            asg: Table::read(dir.join("asg.csv"))?,
            exposure: Table::read(dir.join("exposure.csv"))?,
        })
    }
}
