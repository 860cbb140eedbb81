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
    let d = from_reader::<f32, 1, 1, _>("0.1,16777217\n".as_bytes(), &CsvOptions::new()).unwrap();
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
    let dup = CsvOptions::new().label(Column::Last, Classes::Names(vec!["a".into(), "a".into()]));
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
    assert!(matches!(&e.kind, CsvErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound));
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

#[test]
fn quotes_after_text_take_linear_time() {
    // A field of spaces, a letter and many quote characters: each quote used to scan the
    // field from its start (quadratic: 160 KB took 3.9 s in a release build).
    let n = 200_000;
    let text = format!("{}a{},1\n", " ".repeat(n), "\"".repeat(n));
    let started = std::time::Instant::now();
    let err = kind::<1, 1>(&text, &CsvOptions::new());
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            CsvErrorKind::Parse {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{err}"
    );
    // Linear: a few milliseconds even in a debug build; quadratic: tens of seconds.
    assert!(took.as_secs_f64() < 2.0, "took {took:?}");
}

#[test]
fn a_bad_value_after_a_multi_line_field_names_its_own_line() {
    let o = CsvOptions::new().label(Column::First, Classes::FirstAppearance);
    // The label spans lines 1-3; the bad value is on line 3.
    match kind::<2, 2>("\"set\nos\na\",1.0,x\n", &o) {
        CsvErrorKind::Parse { line, column, text } => {
            assert_eq!((line, column, text.as_str()), (3, 3, "x"))
        }
        k => panic!("{k}"),
    }
    // A class error names the line its field starts on.
    let o = CsvOptions::new().label(Column::Last, Classes::Integers);
    match kind::<1, 2>("1.0,\"a\nb\"\n", &o) {
        CsvErrorKind::BadClassIndex { line, column, .. } => assert_eq!((line, column), (1, 2)),
        k => panic!("{k}"),
    }
    // A multi-line field's own error: the line it starts on.
    match kind::<2, 2>("\"1\n\n\",2.0,x\n", &o) {
        CsvErrorKind::Parse { line, column, .. } => assert_eq!((line, column), (1, 1)),
        k => panic!("{k}"),
    }
}

#[test]
fn fields_past_the_row_width_are_counted() {
    match kind::<1, 1>("1,2\n1,2,3,4,5,6,7\n", &CsvOptions::new()) {
        CsvErrorKind::Width {
            line,
            expected,
            found,
        } => assert_eq!((line, expected, found), (2, 2, 7)),
        k => panic!("{k}"),
    }
    // Invalid UTF-8 past the width is still reported as such.
    let e = from_reader::<f64, 1, 1, _>(&b"1,2,\xff\n"[..], &CsvOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "line 1: field 3 is not valid UTF-8");
}

#[test]
fn records_longer_than_the_limit_are_errors() {
    let o = CsvOptions::new().max_record_bytes(8);
    // "1,2\n" and "1234,5\n" fit; a 9-byte record does not.
    assert_eq!(read::<1, 1>("1,2\n1234,5\n", &o).unwrap().dataset.len(), 2);
    match kind::<1, 1>("1,2\n12345,67\n", &o) {
        CsvErrorKind::RecordTooLong { line, limit } => assert_eq!((line, limit), (2, 8)),
        k => panic!("{k}"),
    }
    // The limit counts every line of a record.
    match kind::<1, 1>("\"1\n2\n3\n4\",5\n", &o) {
        CsvErrorKind::RecordTooLong { line, .. } => assert_eq!(line, 4),
        k => panic!("{k}"),
    }
    // Blank and comment lines are records of their own.
    let text = format!("{}\n1,2\n", " ".repeat(7));
    assert_eq!(read::<1, 1>(&text, &o).unwrap().dataset.len(), 1);
    // The default: 1 MiB, or 1 KiB a column for wider rows.
    let wide = format!("{}1\n", "0,".repeat(1500));
    assert_eq!(
        read::<1500, 1>(&wide, &CsvOptions::new())
            .unwrap()
            .dataset
            .len(),
        1
    );
    let long = format!("{}1,2\n", " ".repeat(1 << 20));
    assert!(matches!(
        kind::<1, 1>(&long, &CsvOptions::new()),
        CsvErrorKind::RecordTooLong {
            line: 1,
            limit: 1_048_576
        }
    ));
}
