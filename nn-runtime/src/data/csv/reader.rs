//! The record reader: RFC 4180 quoting, line numbers, and a cost bounded by the input.
//!
//! Time is linear in the input. Memory is bounded by the record-length limit (the bytes
//! of one record, over all its lines, are held at once) plus the fields of one row as
//! wide as the caller declared: fields past that width are counted, not kept.

use super::CsvErrorKind;
use std::io::{BufRead, Read};

/// One field of a row: its text (unquoted fields trimmed) and the line it starts on.
#[derive(Debug, Default)]
pub(super) struct Field {
    pub(super) text: String,
    pub(super) line: u64,
}

/// A row: where it starts and how many fields it has (only the first `keep` of which are
/// in the fields the reader filled).
pub(super) struct Row {
    /// The line the row starts on (1-based).
    pub(super) line: u64,
    /// The number of fields in the row.
    pub(super) count: usize,
}

/// A CSV reader that knows the line every field starts on (RFC 4180 quoting: fields in
/// double quotes may hold delimiters, newlines and doubled quotes).
pub(super) struct RowReader<R> {
    inner: std::io::BufReader<R>,
    delimiter: u8,
    comment: Option<u8>,
    /// The most bytes a record may have, over all its lines, terminators included.
    limit: usize,
    /// Physical lines consumed so far.
    line: u64,
    buf: Vec<u8>,
    field: Vec<u8>,
}

impl<R: Read> RowReader<R> {
    pub(super) fn new(reader: R, delimiter: u8, comment: Option<u8>, limit: usize) -> Self {
        RowReader {
            inner: std::io::BufReader::new(reader),
            delimiter,
            comment,
            limit,
            line: 0,
            buf: Vec::new(),
            field: Vec::new(),
        }
    }

    /// Reads the next physical line into `buf` without its terminator; false at the end.
    /// `used` bytes of the record are read already: the line may add at most
    /// `limit - used` bytes, terminator included.
    fn physical_line(&mut self, used: usize) -> Result<bool, CsvErrorKind> {
        self.buf.clear();
        let room = self.limit.saturating_sub(used);
        let mut read = 0usize;
        let mut ended = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CsvErrorKind::Io(e)),
            };
            if chunk.is_empty() {
                break;
            }
            let (take, newline) = match memchr_newline(chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if read + take > room {
                return Err(CsvErrorKind::RecordTooLong {
                    line: self.line + 1,
                    limit: self.limit,
                });
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.inner.consume(take);
            read += take;
            if newline {
                ended = true;
                break;
            }
        }
        if read == 0 {
            return Ok(false);
        }
        self.line += 1;
        if ended {
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

    /// Reads the next row, skipping blank and comment lines: its first `keep` fields into
    /// `fields` (unquoted fields trimmed), the others only counted. `None` at the end.
    pub(super) fn next_row(
        &mut self,
        fields: &mut Vec<Field>,
        keep: usize,
    ) -> Result<Option<Row>, CsvErrorKind> {
        let mut used;
        loop {
            if !self.physical_line(0)? {
                return Ok(None);
            }
            used = self.buf.len() + 1;
            let blank = self.buf.iter().all(u8::is_ascii_whitespace);
            let comment = self.comment.is_some() && self.buf.first() == self.comment.as_ref();
            if !blank && !comment {
                break;
            }
        }
        let start = self.line;
        fields.clear();
        let mut count = 0usize;
        self.field.clear();
        let mut field_line = start;
        // Whether the field so far is only whitespace: kept as bytes arrive, so that a
        // quote needs no scan of the field (which made quotes after text quadratic).
        let mut blank = true;
        let mut quoted = false;
        let mut in_quotes = false;
        loop {
            let mut i = 0;
            while i < self.buf.len() {
                let b = self.buf[i];
                if in_quotes {
                    if b == b'"' {
                        if self.buf.get(i + 1) == Some(&b'"') {
                            self.field.push(b'"');
                            i += 1;
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        self.field.push(b);
                    }
                } else if b == self.delimiter {
                    finish(
                        &mut self.field,
                        quoted,
                        field_line,
                        fields,
                        &mut count,
                        keep,
                        start,
                    )?;
                    quoted = false;
                    blank = true;
                    field_line = self.line;
                } else if b == b'"' && !quoted && blank {
                    self.field.clear();
                    quoted = true;
                    in_quotes = true;
                } else if !(quoted && b.is_ascii_whitespace()) {
                    // Text after a closing quote is kept; whitespace there is dropped.
                    self.field.push(b);
                    blank &= b.is_ascii_whitespace();
                }
                i += 1;
            }
            if !in_quotes {
                finish(
                    &mut self.field,
                    quoted,
                    field_line,
                    fields,
                    &mut count,
                    keep,
                    start,
                )?;
                return Ok(Some(Row { line: start, count }));
            }
            // A quoted field spanning lines.
            self.field.push(b'\n');
            if !self.physical_line(used)? {
                return Err(CsvErrorKind::Malformed {
                    line: start,
                    message: "a quoted field is never closed".to_string(),
                });
            }
            used += self.buf.len() + 1;
        }
    }
}

/// Ends the current field: kept (as text) if fewer than `keep` are, counted always.
fn finish(
    field: &mut Vec<u8>,
    quoted: bool,
    line: u64,
    fields: &mut Vec<Field>,
    count: &mut usize,
    keep: usize,
    start: u64,
) -> Result<(), CsvErrorKind> {
    *count += 1;
    let text = std::str::from_utf8(field).map_err(|_| CsvErrorKind::Malformed {
        line: start,
        message: format!("field {count} is not valid UTF-8"),
    })?;
    if fields.len() < keep {
        let text = if quoted { text } else { text.trim() };
        fields.push(Field {
            text: text.to_string(),
            line,
        });
    }
    field.clear();
    Ok(())
}

/// The index of the first `\n`.
fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}
