//! Encodings checked against what Python 3.11 and 2.7 write.

use super::*;

fn read(bytes: &[u8]) -> Result<Value, ParseError> {
    Reader::new(bytes).read_value()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn tuple(items: Vec<Value>) -> Value {
    Value::Tuple(items.into())
}

fn s(text: &str) -> Value {
    Value::Str(Rc::from(text))
}

#[test]
fn python_311_encodings_of_scalars() {
    // Each hex string is `marshal.dumps(value).hex()` from Python 3.11.
    let cases: Vec<(&str, Value)> = vec![
        ("ec03000000000000000200", Value::Int(2_147_483_648)),
        ("ecfdffffff010000000200", Value::Int(-2_147_483_649)),
        ("ec0500000000000000000000000400", Value::Int(1 << 62)),
        ("e9fbffffff", Value::Int(-5)),
        ("e7000000000000f83f", Value::Float(1.5)),
        ("f50600000068c3a96c6c6f", s("héllo")),
        ("da03616263", s("abc")),
        ("f3020000007879", Value::Bytes(Rc::from(&b"xy"[..]))),
        ("a901e901000000", tuple(vec![Value::Int(1)])),
        ("be00000000", Value::FrozenSet(Rc::from(Vec::new()))),
        ("fb30", Value::Dict(Rc::from(Vec::new()))),
        ("4e", Value::None),
        ("54", Value::Bool(true)),
        (
            "f90000000000000000000000000000f03f",
            Value::Complex(0.0, 1.0),
        ),
        // Version 1 writes floats as text; version 2 tuples use a 4-byte length.
        ("6603312e35", Value::Float(1.5)),
        (
            "280200000069010000006902000000",
            tuple(vec![Value::Int(1), Value::Int(2)]),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(read(&hex(bytes)).unwrap(), want, "{bytes}");
    }
    // 2**64 = 18446744073709551616 does not fit an i64.
    assert_eq!(
        read(&hex("ec0500000000000000000000001000")).unwrap(),
        Value::BigInt(18_446_744_073_709_551_616.0)
    );
}

#[test]
fn references_repeat_earlier_values() {
    // marshal.dumps((k, k, {k: 1})) with k = ('a', 1): the later k's are `r` references.
    // Slot 0 is the outer tuple (reserved before its items), 1 the key, 2 'a', 3 the int.
    let mut bytes = vec![0xA9, 3]; // tuple of 3, ref slot 0
    bytes.extend([0xA9, 2, 0xDA, 1, b'a', 0xE9, 1, 0, 0, 0]); // k: slots 1, 2, 3
    bytes.extend([b'r', 1, 0, 0, 0]); // k again
    bytes.extend([b'{', b'r', 1, 0, 0, 0, b'r', 3, 0, 0, 0, b'0']); // {k: 1}
    let k = tuple(vec![s("a"), Value::Int(1)]);
    let want = tuple(vec![
        k.clone(),
        k.clone(),
        Value::Dict(Rc::from(vec![(k, Value::Int(1))])),
    ]);
    assert_eq!(read(&bytes).unwrap(), want);
    // A reference to the outer tuple from inside it cannot be honoured.
    let err = read(&[0xA9, 1, b'r', 0, 0, 0, 0]).unwrap_err();
    assert!(err.message.contains("still being read"), "{err}");
    let err = read(&[b'r', 7, 0, 0, 0]).unwrap_err();
    assert_eq!(err.location, super::super::Location::Byte(0));
}

#[test]
fn python2_interned_strings_and_string_refs() {
    // Python 2.7 marshal: 't' interns a byte string, 'R' refers back to it by index.
    let bytes = [
        b'(', 2, 0, 0, 0, b't', 3, 0, 0, 0, b'a', b'.', b'p', b'R', 0, 0, 0, 0,
    ];
    assert_eq!(read(&bytes).unwrap(), tuple(vec![s("a.p"), s("a.p")]));
    assert!(read(&[b'R', 0, 0, 0, 0]).is_err());
}

#[test]
fn lengths_are_checked_before_allocating() {
    for bytes in [
        &[b'(', 0xFF, 0xFF, 0xFF, 0x7F][..],
        &[b'u', 0xFF, 0xFF, 0xFF, 0x7F, b'x'][..],
        &[b'[', 0xFF, 0xFF, 0xFF, 0xFF][..],
        &[b'l', 0xFF, 0xFF, 0xFF, 0x7F, 1, 0][..],
        &[b')', 200, b'N'][..],
    ] {
        let err = read(bytes).unwrap_err();
        assert_eq!(err.location, super::super::Location::Byte(0), "{err}");
    }
    // A plausible length, then a float cut short: the error is where its bytes run out.
    let err = read(&[b'(', 2, 0, 0, 0, b'N', b'g', 0]).unwrap_err();
    assert_eq!(err.location, super::super::Location::Byte(7), "{err}");
}

#[test]
fn bad_data_is_an_error_not_a_panic() {
    for bytes in [
        &[][..],
        &[b'?'][..],
        &[b'0'][..],
        &[b'c', 0, 0][..],
        &[b'{', b'N'][..],
        &[b'l', 1, 0, 0, 0, 0, 0][..], // zero top digit
        &[b'f', 3, b'a', b'b', b'c'][..],
        &[b'g', 1, 2][..],
    ] {
        assert!(read(bytes).is_err(), "{bytes:?}");
    }
    // Deep nesting stops at the limit, without running out of stack.
    let deep = vec![b'['; 200_000]
        .into_iter()
        .flat_map(|b| [b, 1, 0, 0, 0])
        .collect::<Vec<u8>>();
    let err = read(&deep).unwrap_err();
    assert!(err.message.contains("nested"), "{err}");
    assert_eq!(
        err.location,
        super::super::Location::Byte(5 * MAX_DEPTH as u64)
    );
}

#[test]
fn lone_surrogates_are_replaced_and_counted() {
    // marshal.dumps('\udcff'): Python writes the surrogate as 3 bytes ("surrogatepass").
    let mut reader = Reader::new(&[0xF5, 3, 0, 0, 0, 0xED, 0xB3, 0xBF]);
    let Value::Str(text) = reader.read_value().unwrap() else {
        panic!("not a str");
    };
    assert!(text.chars().all(|c| c == char::REPLACEMENT_CHARACTER));
    assert_eq!(reader.lossy_strings(), 1);
    // Latin-1 for the one-byte string types, as CPython decodes them.
    assert_eq!(read(&[b'z', 2, b'a', 0xE9]).unwrap(), s("aé"));
}

#[test]
fn code_objects_of_every_python_version() {
    // marshal.dumps(('profile', 0, compile('x = 1', 'f.py', 'exec'))) from each Python.
    let cases = [
        (
            "2.7",
            "2803000000740700000070726f66696c6569000000006300000000000000000100000040000000730a00\
             00006400005a000064010053280200000069010000004e28010000007401000000782800000000280000\
             000028000000007304000000662e707974080000003c6d6f64756c653e010000007400000000",
        ),
        (
            "3.6",
            "a903da0770726f66696c65e9000000006300000000000000000000000001000000400000007308000000\
             64005a00640153002902e9010000004e2901da0178a90072050000007205000000fa04662e7079da083c\
             6d6f64756c653e010000007300000000",
        ),
        (
            "3.9",
            "2903da0770726f66696c65e900000000630000000000000000000000000000000001000000400000007308\
             00000064005a00640153002902e9010000004e2901da0178a90072040000007204000000fa04662e7079\
             da083c6d6f64756c653e01000000f300000000",
        ),
        (
            "3.10",
            "2903da0770726f66696c65e900000000630000000000000000000000000000000001000000400000007308\
             00000064005a00640153002902e9010000004e2901da0178a90072040000007204000000fa04662e7079\
             da083c6d6f64756c653e0100000073020000000800",
        ),
        (
            "3.11",
            "2903da0770726f66696c65e900000000630000000000000000000000000100000000000000f30a000000\
             970064005a00640153002902e9010000004e2901da0178a900f300000000fa04662e7079fa083c6d6f64\
             756c653e720800000001000000730e000000f003010101d804058001800180017206000000",
        ),
        (
            "3.13",
            "2903da0770726f66696c65e900000000630000000000000000000000000100000000000000f308000000\
             95005300720067012902e9010000004e2901da0178a900f300000000da04662e7079da083c6d6f64756c\
             653e720800000001000000730a000000f003010101d8040581017206000000",
        ),
    ];
    for (version, bytes) in cases {
        let bytes = hex(bytes);
        let mut reader = Reader::new(&bytes);
        let value = reader
            .read_value()
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let code = Value::Code(Rc::new(Code {
            name: Rc::from("<module>"),
            filename: Rc::from("f.py"),
            first_line: 1,
        }));
        assert_eq!(
            value,
            tuple(vec![s("profile"), Value::Int(0), code]),
            "{version}"
        );
        assert_eq!(reader.remaining(), 0, "{version}");
    }
    // A code object whose bytecode is not followed by constants matches no layout.
    let err = read(&[b'c', 0, 0, 0, 0]).unwrap_err();
    assert!(err.message.contains("layout"), "{err}");
}
