use super::*;

#[test]
fn ranges_parse_like_rfc_9110() {
    use RangeRequest::*;
    assert_eq!(parse_range(None, 100), Whole);
    assert_eq!(parse_range(Some("bytes=10-"), 100), Bytes(10, 99));
    assert_eq!(parse_range(Some("bytes=10-19"), 100), Bytes(10, 19));
    assert_eq!(parse_range(Some("bytes=90-200"), 100), Bytes(90, 99));
    assert_eq!(parse_range(Some("bytes=-10"), 100), Bytes(90, 99));
    assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
    assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    assert_eq!(parse_range(Some("bytes=5-1"), 100), Whole);
    assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Whole);
    assert_eq!(parse_range(Some("items=0-1"), 100), Whole);
}

#[test]
fn etags_are_strong_and_derived_from_the_hash() {
    let sha = "ab".repeat(32);
    assert_eq!(etag_for(&sha), format!("\"{}\"", "ab".repeat(16)));
}
