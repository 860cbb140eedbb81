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
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: false,
            delimiter: b',',
            comment: None,
            target: Target::LastColumns,
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

/// A CSV reader that knows the line every row starts on (RFC 4180 quoting: fields in
/// double quotes may hold delimiters, newlines and doubled quotes).
struct RowReader<R> {
    inner: std::io::BufReader<R>,
    delimiter: u8,
    comment: Option<u8>,
    /// Physical lines consumed so far.
    line: u64,
    buf: Vec<u8>,
}

impl<R: Read> RowReader<R> {
    /// Reads the next physical line into `buf` without its terminator; false at the end.
    fn physical_line(&mut self) -> Result<bool, CsvErrorKind> {
        self.buf.clear();
        let n = std::io::BufRead::read_until(&mut self.inner, b'\n', &mut self.buf)
            .map_err(CsvErrorKind::Io)?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        Ok(true)
    }

    /// Reads the next row into `fields` (unquoted fields trimmed), skipping blank and
    /// comment lines; returns the line it starts on, or `None` at the end.
    fn next_row(&mut self, fields: &mut Vec<String>) -> Result<Option<u64>, CsvErrorKind> {
        loop {
            if !self.physical_line()? {
                return Ok(None);
            }
            let blank = self.buf.iter().all(u8::is_ascii_whitespace);
            let comment = self.comment.is_some() && self.buf.first() == self.comment.as_ref();
            if !blank && !comment {
                break;
            }
        }
        let start = self.line;
        fields.clear();
        let mut field: Vec<u8> = Vec::new();
        let mut quoted = false;
        let mut in_quotes = false;
        let finish = |field: &mut Vec<u8>, quoted: bool, fields: &mut Vec<String>| {
            let bytes = std::mem::take(field);
            let text = String::from_utf8(bytes).map_err(|_| CsvErrorKind::Malformed {
                line: start,
                message: format!("field {} is not valid UTF-8", fields.len() + 1),
            })?;
            fields.push(if quoted {
                text
            } else {
                text.trim().to_string()
            });
            Ok::<(), CsvErrorKind>(())
        };
        loop {
            let mut i = 0;
            while i < self.buf.len() {
                let b = self.buf[i];
                if in_quotes {
                    if b == b'"' {
                        if self.buf.get(i + 1) == Some(&b'"') {
                            field.push(b'"');
                            i += 1;
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        field.push(b);
                    }
                } else if b == self.delimiter {
                    finish(&mut field, quoted, fields)?;
                    quoted = false;
                } else if b == b'"' && !quoted && field.iter().all(u8::is_ascii_whitespace) {
                    field.clear();
                    quoted = true;
                    in_quotes = true;
                } else if !(quoted && b.is_ascii_whitespace()) {
                    // Text after a closing quote is kept; whitespace there is dropped.
                    field.push(b);
                }
                i += 1;
            }
            if !in_quotes {
                finish(&mut field, quoted, fields)?;
                return Ok(Some(start));
            }
            // A quoted field spanning lines.
            field.push(b'\n');
            if !self.physical_line()? {
                return Err(CsvErrorKind::Malformed {
                    line: start,
                    message: "a quoted field is never closed".to_string(),
                });
            }
        }
    }
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
    let mut rdr = RowReader {
        inner: std::io::BufReader::new(reader),
        delimiter: options.delimiter,
        comment: options.comment,
        line: 0,
        buf: Vec::new(),
    };
    let mut record: Vec<String> = Vec::new();
    let check_width = |record: &[String], line: u64| {
        if record.len() != width {
            Err(CsvErrorKind::Width {
                line,
                expected: width,
                found: record.len(),
            })
        } else {
            Ok(())
        }
    };

    let header = if options.has_header {
        let Some(line) = rdr.next_row(&mut record)? else {
            return Err(CsvErrorKind::NoData.into());
        };
        check_width(&record, line)?;
        Some(record.clone())
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
    while let Some(line) = rdr.next_row(&mut record)? {
        check_width(&record, line)?;
        let mut x = SVector::<T, IN>::zeros();
        let mut y = SVector::<T, OUT>::zeros();
        match &mut layout {
            Layout::Numeric => {
                for (k, text) in record.iter().enumerate() {
                    let v = parse_value::<T>(text, line, k + 1)?;
                    if k < IN {
                        x[k] = v;
                    } else {
                        y[k - IN] = v;
                    }
                }
            }
            Layout::Label { column, classes } => {
                let mut k_in = 0;
                for (k, text) in record.iter().enumerate() {
                    if k == *column {
                        continue;
                    }
                    x[k_in] = parse_value::<T>(text, line, k + 1)?;
                    k_in += 1;
                }
                let text = &record[*column];
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
mod tests {
    use super::*;
    use crate::data::test_util::TempDir;

    fn read<const IN: usize, const OUT: usize>(
        text: &str,
        options: &CsvOptions,
    ) -> Result<CsvData<f64, IN, OUT>, CsvError> {
        from_reader_with_info::<f64, IN, OUT, _>(text.as_bytes(), options)
    }

    fn kind<const IN: usize, const OUT: usize>(text: &str, options: &CsvOptions) -> CsvErrorKind {
        read::<IN, OUT>(text, options).unwrap_err().kind
    }

    #[test]
    fn numeric_targets() {
        let d = read::<2, 1>("1,2,3\n 4 , 5.5 ,-6e1\n\n7,8,9\n", &CsvOptions::new()).unwrap();
        assert_eq!(d.dataset.len(), 3);
        assert_eq!(d.dataset.inputs()[1].as_slice(), &[4.0, 5.5]);
        assert_eq!(d.dataset.targets()[1].as_slice(), &[-60.0]);
        assert_eq!(d.header, None);
        assert_eq!(d.classes, None);
        let d = read::<1, 2>(
            "a;b;c\n1;2;3\n",
            &CsvOptions::new().header(true).delimiter(b';'),
        )
        .unwrap();
        assert_eq!(d.header, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(d.dataset.targets()[0].as_slice(), &[2.0, 3.0]);
        // Comments and tabs.
        let d = read::<1, 1>(
            "# x\ty\n1\t2\n",
            &CsvOptions::new().delimiter(b'\t').comment(Some(b'#')),
        )
        .unwrap();
        assert_eq!(d.dataset.len(), 1);
    }

    #[test]
    fn f32_values_round_once() {
        // 0.1 parsed as f32 directly, not through f64.
        let d =
            from_reader::<f32, 1, 1, _>("0.1,16777217\n".as_bytes(), &CsvOptions::new()).unwrap();
        assert_eq!(d.inputs()[0][0], 0.1f32);
        assert_eq!(d.targets()[0][0], 16777216.0f32);
        let e = from_reader::<f32, 1, 1, _>("1e39,0\n".as_bytes(), &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(
                e.kind,
                CsvErrorKind::NonFinite {
                    line: 1,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        // Fine in f64.
        assert!(read::<1, 1>("1e39,0\n", &CsvOptions::new()).is_ok());
    }

    #[test]
    fn value_errors_name_line_and_column() {
        let o = CsvOptions::new();
        match kind::<2, 1>("1,2,3\n4,five,6\n", &o) {
            CsvErrorKind::Parse { line, column, text } => {
                assert_eq!((line, column, text.as_str()), (2, 2, "five"))
            }
            k => panic!("{k}"),
        }
        assert_eq!(
            read::<2, 1>("1,2,3\n4,,6\n", &o).unwrap_err().to_string(),
            "line 2, column 2: cannot parse \"\" as a number"
        );
        for bad in ["nan", "NaN", "inf", "-inf", "infinity"] {
            match kind::<2, 1>(&format!("1,2,3\n\n4,5,{bad}\n"), &o) {
                CsvErrorKind::NonFinite { line, column, text } => {
                    assert_eq!((line, column, text.as_str()), (3, 3, bad))
                }
                k => panic!("{bad}: {k}"),
            }
        }
        // The header counts as line 1.
        let h = CsvOptions::new().header(true);
        assert!(matches!(
            kind::<2, 1>("a,b,c\n1,2,x\n", &h),
            CsvErrorKind::Parse {
                line: 2,
                column: 3,
                ..
            }
        ));
        // Without `header(true)` a header is a parse error on line 1.
        assert!(matches!(
            kind::<2, 1>("a,b,c\n1,2,3\n", &o),
            CsvErrorKind::Parse {
                line: 1,
                column: 1,
                ..
            }
        ));
    }

    #[test]
    fn width_and_empty_errors() {
        let o = CsvOptions::new();
        match kind::<2, 1>("1,2,3\n4,5\n", &o) {
            CsvErrorKind::Width {
                line,
                expected,
                found,
            } => assert_eq!((line, expected, found), (2, 3, 2)),
            k => panic!("{k}"),
        }
        assert_eq!(
            read::<2, 1>("1,2,3,4\n", &o).unwrap_err().to_string(),
            "line 1: expected 3 columns, found 4"
        );
        // The header must have the width too.
        assert!(matches!(
            kind::<2, 1>("a,b\n1,2,3\n", &o.clone().header(true)),
            CsvErrorKind::Width {
                line: 1,
                expected: 3,
                found: 2
            }
        ));
        assert!(matches!(kind::<2, 1>("", &o), CsvErrorKind::NoData));
        assert!(matches!(kind::<2, 1>("\n\n", &o), CsvErrorKind::NoData));
        assert!(matches!(
            kind::<2, 1>("a,b,c\n", &o.clone().header(true)),
            CsvErrorKind::NoData
        ));
        assert!(matches!(
            kind::<2, 1>("", &o.clone().header(true)),
            CsvErrorKind::NoData
        ));
        // Label layout: IN + 1 columns.
        let l = CsvOptions::new().label(Column::Last, Classes::Integers);
        assert!(matches!(
            kind::<2, 3>("1,2,3,0\n", &l),
            CsvErrorKind::Width {
                expected: 3,
                found: 4,
                ..
            }
        ));
    }

    #[test]
    fn malformed() {
        let bytes: &[u8] = b"1,2\n\xff\xfe,3\n";
        let e = from_reader::<f64, 1, 1, _>(bytes, &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(e.kind, CsvErrorKind::Malformed { line: 2, .. }),
            "{e}"
        );
        assert_eq!(e.to_string(), "line 2: field 1 is not valid UTF-8");
        let e = from_reader::<f64, 1, 1, _>("1,2\n\n3,\"4\n5\n".as_bytes(), &CsvOptions::new())
            .unwrap_err();
        assert_eq!(e.to_string(), "line 3: a quoted field is never closed");
    }

    #[test]
    fn line_numbers_count_every_physical_line() {
        // Blank lines, CRLF, comments, a byte-order mark and a quoted field spanning lines.
        let o = CsvOptions::new()
            .comment(Some(b'#'))
            .label(Column::Last, Classes::FirstAppearance);
        let text = "\u{feff}# comment\r\n1,a\r\n\r\n  \r\n2,\"b\r\nc\"\r\n#x\r\n3,\"say \"\"hi\"\", d\"\r\n4 , \" e \" \r\nx,a\r\n";
        match kind::<1, 5>(text, &o) {
            CsvErrorKind::Parse { line, column, text } => {
                assert_eq!((line, column, text.as_str()), (10, 1, "x"))
            }
            k => panic!("{k}"),
        }
        let ok = &text[..text.len() - "x,a\r\n".len()];
        let d = read::<1, 5>(ok, &o).unwrap();
        assert_eq!(d.dataset.len(), 4);
        assert_eq!(
            d.classes.unwrap(),
            vec![
                "a".to_string(),
                "b\nc".into(),
                "say \"hi\", d".into(),
                " e ".into()
            ]
        );
        assert_eq!(d.dataset.inputs()[3][0], 4.0);
        // Width errors after a multi-line row name the line the row starts on.
        match kind::<1, 5>("1,\"a\nb\"\n2,c,3\n", &o) {
            CsvErrorKind::Width { line, .. } => assert_eq!(line, 3),
            k => panic!("{k}"),
        }
        // Without a comment byte, '#' is data.
        assert!(matches!(
            kind::<1, 1>("#,1\n", &CsvOptions::new()),
            CsvErrorKind::Parse {
                line: 1,
                column: 1,
                ..
            }
        ));
        // No trailing newline.
        assert_eq!(
            read::<1, 1>("1,2\n3,4", &CsvOptions::new())
                .unwrap()
                .dataset
                .len(),
            2
        );
    }

    #[test]
    fn integer_labels() {
        let o = CsvOptions::new().label(Column::First, Classes::Integers);
        let d = read::<2, 3>("2,0.5,1\n0,1,2\n", &o).unwrap();
        assert_eq!(d.dataset.labels(), vec![2, 0]);
        assert_eq!(d.dataset.inputs()[0].as_slice(), &[0.5, 1.0]);
        assert_eq!(d.dataset.targets()[0].as_slice(), &[0.0, 0.0, 1.0]);
        assert_eq!(d.classes, None);
        match kind::<2, 3>("2,0.5,1\n3,1,2\n", &o) {
            CsvErrorKind::ClassOutOfRange {
                line,
                column,
                class,
                classes,
            } => {
                assert_eq!((line, column, class, classes), (2, 1, 3, 3))
            }
            k => panic!("{k}"),
        }
        for bad in ["1.0", "-1", "one", ""] {
            assert!(
                matches!(
                    kind::<2, 3>(&format!("{bad},1,2\n"), &o),
                    CsvErrorKind::BadClassIndex {
                        line: 1,
                        column: 1,
                        ..
                    }
                ),
                "{bad}"
            );
        }
        // A label column in the middle; inputs are the others in order.
        let m = CsvOptions::new().label(Column::Index(1), Classes::Integers);
        let d = read::<2, 2>("10,1,20\n", &m).unwrap();
        assert_eq!(d.dataset.inputs()[0].as_slice(), &[10.0, 20.0]);
        assert_eq!(d.dataset.labels(), vec![1]);
        // Input errors report the real column.
        assert!(matches!(
            kind::<2, 2>("10,1,x\n", &m),
            CsvErrorKind::Parse { column: 3, .. }
        ));
        assert!(matches!(
            kind::<2, 2>(
                "10,1,20\n",
                &CsvOptions::new().label(Column::Index(3), Classes::Integers)
            ),
            CsvErrorKind::ColumnOutOfRange { index: 3, width: 3 }
        ));
    }

    #[test]
    fn named_labels() {
        let text = "x,kind\n1,cat\n2,dog\n3,cat\n";
        let first = CsvOptions::new()
            .header(true)
            .label(Column::Named("kind".into()), Classes::FirstAppearance);
        let d = read::<1, 3>(text, &first).unwrap();
        assert_eq!(d.dataset.labels(), vec![0, 1, 0]);
        assert_eq!(d.classes, Some(vec!["cat".into(), "dog".into()]));
        // Too many distinct names.
        match kind::<1, 2>("x,kind\n1,cat\n2,dog\n3,cow\n", &first) {
            CsvErrorKind::TooManyClasses {
                line,
                column,
                text,
                classes,
            } => {
                assert_eq!((line, column, text.as_str(), classes), (4, 2, "cow", 2))
            }
            k => panic!("{k}"),
        }
        let given = CsvOptions::new().header(true).label(
            Column::Last,
            Classes::Names(vec!["dog".into(), "cat".into()]),
        );
        let d = read::<1, 2>(text, &given).unwrap();
        assert_eq!(d.dataset.labels(), vec![1, 0, 1]);
        assert_eq!(d.classes, Some(vec!["dog".into(), "cat".into()]));
        match kind::<1, 2>("x,kind\n1,cat\n2,Dog\n", &given) {
            CsvErrorKind::UnknownClass { line, column, text } => {
                assert_eq!((line, column, text.as_str()), (3, 2, "Dog"))
            }
            k => panic!("{k}"),
        }
        assert!(matches!(
            kind::<1, 3>(text, &given),
            CsvErrorKind::ClassCount {
                given: 2,
                expected: 3
            }
        ));
        let dup =
            CsvOptions::new().label(Column::Last, Classes::Names(vec!["a".into(), "a".into()]));
        assert!(matches!(kind::<1, 2>("1,a\n", &dup), CsvErrorKind::DuplicateClass(n) if n == "a"));
        let named = CsvOptions::new().label(Column::Named("kind".into()), Classes::FirstAppearance);
        assert!(matches!(
            kind::<1, 2>("1,a\n", &named),
            CsvErrorKind::NoHeader(_)
        ));
        assert!(
            matches!(kind::<1, 2>("x,y\n1,a\n", &named.header(true)), CsvErrorKind::ColumnNotFound(n) if n == "kind")
        );
    }

    #[test]
    fn files_and_paths() {
        let dir = TempDir::new("csv");
        let path = dir.0.join("data.csv");
        std::fs::write(&path, "1,2\n3,4\n").unwrap();
        let d = load::<f32, 1, 1>(&path, &CsvOptions::new()).unwrap();
        assert_eq!(d.targets()[1][0], 4.0);
        let info = load_with_info::<f32, 1, 1>(&path, &CsvOptions::new()).unwrap();
        assert_eq!(info.dataset, d);
        std::fs::write(&path, "1,2\n3,x\n").unwrap();
        let e = load::<f32, 1, 1>(&path, &CsvOptions::new()).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path.as_path()));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 2, column 2: cannot parse \"x\" as a number",
                path.display()
            )
        );
        let missing = dir.0.join("missing.csv");
        let e = load::<f32, 1, 1>(&missing, &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(&e.kind, CsvErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound)
        );
        assert!(
            e.to_string().starts_with(&missing.display().to_string()),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn reader_io_errors() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let e = from_reader::<f64, 1, 1, _>(Failing, &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(&e.kind, CsvErrorKind::Io(io) if io.to_string() == "disk on fire"),
            "{e}"
        );
    }
}
