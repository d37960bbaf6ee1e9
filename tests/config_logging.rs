//! The diagnostic log goes to its file only. One test per binary, since the
//! subscriber is process-global.

#[test]
fn log_goes_to_the_file_with_the_filter_and_no_ansi() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state/actsm.log");

    let guard = actsm::logging::init(&path, Some("actsm=info")).expect("init");
    assert_eq!(guard.path(), path.as_path());

    tracing::info!(target: "actsm::session", connection = "acme", "token refreshed");
    tracing::debug!(target: "actsm::session", "too detailed for info");
    tracing::warn!(target: "other_crate", "filtered out by target");

    let text = std::fs::read_to_string(&path).expect("log file exists");
    assert!(text.contains("token refreshed"), "{text}");
    assert!(text.contains("connection=\"acme\""), "{text}");
    assert!(!text.contains("too detailed"), "{text}");
    assert!(!text.contains("filtered out"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes: {text:?}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A second global subscriber is refused, with a message rather than a panic.
    let err = actsm::logging::init(&path, None).expect_err("already installed");
    assert!(
        err.to_string().contains("cannot install the log writer"),
        "{err}"
    );

    // Appends: earlier lines stay.
    tracing::info!(target: "actsm", "second line");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("token refreshed") && text.contains("second line"),
        "{text}"
    );
}
