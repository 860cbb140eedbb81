//! CSV files into fixed-size samples.
//!
//! Each data row holds the `IN` input values and the target, which is either the last
//! `OUT` columns as numbers ([`Target::LastColumns`], the default) or one class-label
//! column one-hot encoded into `OUT` classes ([`Target::Label`]). Fields may be quoted as
//! in RFC 4180 (`"a, ""quoted"" name"`, possibly over several lines); unquoted fields are
//! trimmed of whitespace; blank lines, comment lines (if asked for) and a UTF-8
//! byte-order mark are skipped; lines may end in `\n` or `\r\n`. Rows of the wrong width, unparsable or non-finite values,
//! unknown classes and files without data rows are errors that name the line and column
//! (both 1-based, as an editor shows them).
//!
//! ```
//! use nn_runtime::data::csv::{self, Classes, Column, CsvOptions};
//!
//! let text = "\
//! sepal_length,sepal_width,species
//! 5.1,3.5,setosa
//! 7.0,3.2,versicolor
//! 6.3,3.3,virginica
//! 4.9,3.0,setosa
//! ";
//! let options = CsvOptions::new()
//!     .header(true)
//!     .label(Column::Last, Classes::FirstAppearance);
//! let data = csv::from_reader_with_info::<f32, 2, 3, _>(text.as_bytes(), &options)?;
//! assert_eq!(data.dataset.len(), 4);
//! assert_eq!(data.dataset.labels(), vec![0, 1, 2, 0]);
//! assert_eq!(data.classes.as_deref(), Some(&["setosa".to_string(), "versicolor".into(), "virginica".into()][..]));
//!
//! // Errors point at the bad value.
//! let err = csv::from_reader::<f32, 2, 3, _>("5.1,x,setosa\n".as_bytes(), &options.clone().header(false))
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "line 1, column 2: cannot parse \"x\" as a number");
//! # Ok::<(), nn_runtime::data::csv::CsvError>(())
//! ```

use super::dataset::Dataset;
use crate::scalar::{Dtype, Scalar};
use nalgebra::SVector;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

mod reader;
use reader::{Field, Row, RowReader};

/// Which column holds the class label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The first column.
    First,
    /// The last column.
    Last,
    /// The column at this **0-based** index.
    Index(usize),
    /// The column with this name in the header row (needs [`CsvOptions::header`]).
    Named(String),
}

/// How class labels are turned into class indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classes {
    /// The label is the class index itself, an integer in `0..OUT`.
    Integers,
    /// Labels are names; each new name gets the next index, in order of first appearance.
    FirstAppearance,
    /// Labels are names from this list (exactly `OUT` distinct names); a name's index is
    /// its position in the list.
    Names(Vec<String>),
}

/// What the target of each row is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Target {
    /// The last `OUT` columns are numeric targets and the first `IN` are the inputs: rows
    /// have `IN + OUT` columns.
    #[default]
    LastColumns,
    /// One column is a class label, one-hot encoded into `OUT` classes; the other `IN`
    /// columns, in order, are the inputs: rows have `IN + 1` columns.
    Label {
        /// The label column.
        column: Column,
        /// How labels map to classes.
        classes: Classes,
    },
}

/// How to read a CSV file. Build it with [`CsvOptions::new`] and the builder methods.
///
/// The default: no header row, comma-separated, no comment lines, numeric targets in the
/// last `OUT` columns. (A header read as data fails with a clear "cannot parse" error on
/// line 1.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvOptions {
    /// Whether the first row is a header (column names) rather than data.
    pub has_header: bool,
    /// The field delimiter, `b','` by default.
    pub delimiter: u8,
    /// Lines starting with this byte are skipped (none by default).
    pub comment: Option<u8>,
    /// What the target is.
    pub target: Target,
    /// The most bytes one record may have, over all its lines (a quoted field may span
    /// several), line terminators included; a longer one is a
    /// [`CsvErrorKind::RecordTooLong`] error. `None`, the default, allows
    /// [`DEFAULT_MAX_RECORD_BYTES`] (1 MiB), or 1 KiB per column of the declared row
    /// width if that is more. Bounds the memory a reader takes whatever its input (an
    /// endless line is an error, not an allocation failure).
    pub max_record_bytes: Option<usize>,
}

/// The default record-length limit: 1 MiB (or 1 KiB per column, if more; see
/// [`CsvOptions::max_record_bytes`]).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: false,
            delimiter: b',',
            comment: None,
            target: Target::LastColumns,
            max_record_bytes: None,
        }
    }
}

impl CsvOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets whether the first row is a header.
    pub fn header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// Sets the field delimiter (`b';'`, `b'\t'`...).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Skips lines that start with `comment` (for example `Some(b'#')`).
    pub fn comment(mut self, comment: Option<u8>) -> Self {
        self.comment = comment;
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// The target is the class label in `column`, mapped to indices by `classes`.
    pub fn label(self, column: Column, classes: Classes) -> Self {
        self.target(Target::Label { column, classes })
    }

    /// Sets the most bytes one record may have (see
    /// [`max_record_bytes`](Self::max_record_bytes)).
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.max_record_bytes = Some(limit);
        self
    }

    /// The record-length limit for rows of `width` columns.
    fn record_limit(&self, width: usize) -> usize {
        self.max_record_bytes
            .unwrap_or_else(|| DEFAULT_MAX_RECORD_BYTES.max(width.saturating_mul(1024)))
    }
}

/// What went wrong reading CSV data, without the file name (see [`CsvError`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvErrorKind {
    /// An I/O error (opening or reading).
    #[error("{0}")]
    Io(std::io::Error),
    /// Malformed CSV: invalid UTF-8 or a quoted field never closed.
    #[error("line {line}: {message}")]
    Malformed {
        /// The line (1-based).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A record longer than [`CsvOptions::max_record_bytes`].
    #[error("line {line}: a record longer than {limit} bytes (the limit is CsvOptions::max_record_bytes)")]
    RecordTooLong {
        /// The line (1-based) on which the limit was passed.
        line: u64,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A row with the wrong number of fields.
    #[error("line {line}: expected {expected} columns, found {found}")]
    Width {
        /// The line (1-based).
        line: u64,
        /// The number of columns the options and `IN`, `OUT` call for.
        expected: usize,
        /// The number of columns in the row.
        found: usize,
    },
    /// A value that is not a number.
    #[error("line {line}, column {column}: cannot parse {text:?} as a number")]
    Parse {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The field.
        text: String,
    },
    /// A value that is NaN or infinite, or overflows the scalar type.
    #[error("line {line}, column {column}: {text:?} is not a finite number")]
    NonFinite {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The field.
        text: String,
    },
    /// A label that is not a class index (with [`Classes::Integers`]).
    #[error("line {line}, column {column}: class {text:?} is not an integer")]
    BadClassIndex {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The field.
        text: String,
    },
    /// A class index `>= OUT` (with [`Classes::Integers`]).
    #[error("line {line}, column {column}: class {class} is out of range for {classes} classes")]
    ClassOutOfRange {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The class index.
        class: usize,
        /// The number of classes, `OUT`.
        classes: usize,
    },
    /// A label not in the given list (with [`Classes::Names`]).
    #[error("line {line}, column {column}: unknown class {text:?}")]
    UnknownClass {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The label.
        text: String,
    },
    /// More distinct labels than `OUT` (with [`Classes::FirstAppearance`]).
    #[error("line {line}, column {column}: class {text:?} is one more than the {classes} classes expected")]
    TooManyClasses {
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The label.
        text: String,
        /// The number of classes, `OUT`.
        classes: usize,
    },
    /// A header row, or the file, without data rows.
    #[error("no data rows")]
    NoData,
    /// [`Classes::Names`] with a number of names other than `OUT`.
    #[error("{given} class names given for {expected} classes")]
    ClassCount {
        /// The number of names given.
        given: usize,
        /// The number of classes, `OUT`.
        expected: usize,
    },
    /// [`Classes::Names`] with a name twice.
    #[error("class name {0:?} is given twice")]
    DuplicateClass(String),
    /// [`Column::Index`] past the row width.
    #[error("label column index {index} (0-based) is out of range for rows of {width} columns")]
    ColumnOutOfRange {
        /// The index given.
        index: usize,
        /// The row width, `IN + 1`.
        width: usize,
    },
    /// [`Column::Named`] without a header row.
    #[error("label column {0:?} is named but the options have no header row")]
    NoHeader(String),
    /// [`Column::Named`] with a name not in the header.
    #[error("no column named {0:?} in the header")]
    ColumnNotFound(String),
}

/// An error reading CSV data: what went wrong ([`CsvErrorKind`], with line and column)
/// and, when reading a file, its path.
#[derive(Debug)]
pub struct CsvError {
    /// The file, when reading one with [`load`] or [`load_with_info`].
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub kind: CsvErrorKind,
}

impl CsvError {
    fn new(kind: CsvErrorKind) -> Self {
        CsvError { path: None, kind }
    }
}

impl From<CsvErrorKind> for CsvError {
    fn from(kind: CsvErrorKind) -> Self {
        CsvError::new(kind)
    }
}

impl core::fmt::Display for CsvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CsvErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// A data set read from CSV with what else the file told.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CsvData<T: Scalar, const IN: usize, const OUT: usize> {
    /// The samples.
    pub dataset: Dataset<T, IN, OUT>,
    /// The header row, if the options say there is one.
    pub header: Option<Vec<String>>,
    /// The class names in index order, for [`Classes::FirstAppearance`] (possibly fewer
    /// than `OUT` if some classes never appear) and [`Classes::Names`]; `None` otherwise.
    pub classes: Option<Vec<String>>,
}

/// Reads a CSV file into a data set.
///
/// # Errors
///
/// [`CsvError`] with the path; see [`CsvErrorKind`].
pub fn load<T: Scalar, const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Dataset<T, IN, OUT>, CsvError> {
    load_with_info(path, options).map(|d| d.dataset)
}

/// Reads a CSV file into a data set, with its header and class names.
///
/// # Errors
///
/// [`CsvError`] with the path; see [`CsvErrorKind`].
pub fn load_with_info<T: Scalar, const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<CsvData<T, IN, OUT>, CsvError> {
    let path = path.as_ref();
    let with_path = |kind| CsvError {
        path: Some(path.to_path_buf()),
        kind,
    };
    let file = std::fs::File::open(path).map_err(|e| with_path(CsvErrorKind::Io(e)))?;
    // `from_reader_with_info` buffers.
    from_reader_with_info(file, options).map_err(|e| with_path(e.kind))
}

/// Reads CSV data from any reader into a data set.
///
/// # Errors
///
/// [`CsvError`] without a path; see [`CsvErrorKind`].
pub fn from_reader<T: Scalar, const IN: usize, const OUT: usize, R: Read>(
    reader: R,
    options: &CsvOptions,
) -> Result<Dataset<T, IN, OUT>, CsvError> {
    from_reader_with_info(reader, options).map(|d| d.dataset)
}

/// How a row maps to a sample, resolved from the options and the header.
enum Layout {
    Numeric,
    Label { column: usize, classes: ClassMap },
}

enum ClassMap {
    Integers,
    Fixed(HashMap<String, usize>, Vec<String>),
    Growing(HashMap<String, usize>, Vec<String>),
}

/// Parses `text` as `T`, rounding once (an `f32` is parsed as `f32`).
fn parse_value<T: Scalar>(text: &str, line: u64, column: usize) -> Result<T, CsvErrorKind> {
    let parsed = match T::DTYPE {
        Dtype::F32 => text
            .parse::<f32>()
            .map(|v| <T as Scalar>::from_f64(f64::from(v))),
        Dtype::F64 => text.parse::<f64>().map(<T as Scalar>::from_f64),
    };
    match parsed {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(CsvErrorKind::NonFinite {
            line,
            column,
            text: text.to_string(),
        }),
        Err(_) => Err(CsvErrorKind::Parse {
            line,
            column,
            text: text.to_string(),
        }),
    }
}

/// Reads CSV data from any reader, with its header and class names.
///
/// # Errors
///
/// [`CsvError`] without a path; see [`CsvErrorKind`].
pub fn from_reader_with_info<T: Scalar, const IN: usize, const OUT: usize, R: Read>(
    reader: R,
    options: &CsvOptions,
) -> Result<CsvData<T, IN, OUT>, CsvError> {
    let width = match options.target {
        Target::LastColumns => IN + OUT,
        Target::Label { .. } => IN + 1,
    };
    let mut rdr = RowReader::new(
        reader,
        options.delimiter,
        options.comment,
        options.record_limit(width),
    );
    let mut record: Vec<Field> = Vec::with_capacity(width);
    let check_width = |row: &Row| {
        if row.count != width {
            Err(CsvErrorKind::Width {
                line: row.line,
                expected: width,
                found: row.count,
            })
        } else {
            Ok(())
        }
    };

    let header = if options.has_header {
        let Some(row) = rdr.next_row(&mut record, width)? else {
            return Err(CsvErrorKind::NoData.into());
        };
        check_width(&row)?;
        Some(record.iter().map(|f| f.text.clone()).collect::<Vec<_>>())
    } else {
        None
    };

    let mut layout = match &options.target {
        Target::LastColumns => Layout::Numeric,
        Target::Label { column, classes } => {
            let column = match column {
                Column::First => 0,
                Column::Last => IN,
                Column::Index(i) if *i < width => *i,
                Column::Index(i) => {
                    return Err(CsvErrorKind::ColumnOutOfRange { index: *i, width }.into())
                }
                Column::Named(name) => match &header {
                    None => return Err(CsvErrorKind::NoHeader(name.clone()).into()),
                    Some(h) => h
                        .iter()
                        .position(|c| c == name)
                        .ok_or_else(|| CsvErrorKind::ColumnNotFound(name.clone()))?,
                },
            };
            let classes = match classes {
                Classes::Integers => ClassMap::Integers,
                Classes::FirstAppearance => ClassMap::Growing(HashMap::new(), Vec::new()),
                Classes::Names(names) => {
                    if names.len() != OUT {
                        return Err(CsvErrorKind::ClassCount {
                            given: names.len(),
                            expected: OUT,
                        }
                        .into());
                    }
                    let mut map = HashMap::new();
                    for (i, n) in names.iter().enumerate() {
                        if map.insert(n.clone(), i).is_some() {
                            return Err(CsvErrorKind::DuplicateClass(n.clone()).into());
                        }
                    }
                    ClassMap::Fixed(map, names.clone())
                }
            };
            Layout::Label { column, classes }
        }
    };

    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    while let Some(row) = rdr.next_row(&mut record, width)? {
        check_width(&row)?;
        let mut x = SVector::<T, IN>::zeros();
        let mut y = SVector::<T, OUT>::zeros();
        match &mut layout {
            Layout::Numeric => {
                for (k, f) in record.iter().enumerate() {
                    let v = parse_value::<T>(&f.text, f.line, k + 1)?;
                    if k < IN {
                        x[k] = v;
                    } else {
                        y[k - IN] = v;
                    }
                }
            }
            Layout::Label { column, classes } => {
                let mut k_in = 0;
                for (k, f) in record.iter().enumerate() {
                    if k == *column {
                        continue;
                    }
                    x[k_in] = parse_value::<T>(&f.text, f.line, k + 1)?;
                    k_in += 1;
                }
                let Field { text, line } = &record[*column];
                let (text, line) = (text.as_str(), *line);
                let col = *column + 1;
                let class = match classes {
                    ClassMap::Integers => {
                        let class: usize =
                            text.parse().map_err(|_| CsvErrorKind::BadClassIndex {
                                line,
                                column: col,
                                text: text.to_string(),
                            })?;
                        if class >= OUT {
                            return Err(CsvErrorKind::ClassOutOfRange {
                                line,
                                column: col,
                                class,
                                classes: OUT,
                            }
                            .into());
                        }
                        class
                    }
                    ClassMap::Fixed(map, _) => {
                        *map.get(text).ok_or_else(|| CsvErrorKind::UnknownClass {
                            line,
                            column: col,
                            text: text.to_string(),
                        })?
                    }
                    ClassMap::Growing(map, names) => match map.get(text) {
                        Some(&c) => c,
                        None if names.len() < OUT => {
                            map.insert(text.to_string(), names.len());
                            names.push(text.to_string());
                            names.len() - 1
                        }
                        None => {
                            return Err(CsvErrorKind::TooManyClasses {
                                line,
                                column: col,
                                text: text.to_string(),
                                classes: OUT,
                            }
                            .into())
                        }
                    },
                };
                y[class] = T::one();
            }
        }
        inputs.push(x);
        targets.push(y);
    }
    if inputs.is_empty() {
        return Err(CsvErrorKind::NoData.into());
    }
    let classes = match layout {
        Layout::Label {
            classes: ClassMap::Fixed(_, names) | ClassMap::Growing(_, names),
            ..
        } => Some(names),
        _ => None,
    };
    Ok(CsvData {
        // Every value was checked finite when parsed.
        dataset: Dataset::from_parts_unchecked(inputs, targets),
        header,
        classes,
    })
}

#[cfg(test)]
mod tests;
