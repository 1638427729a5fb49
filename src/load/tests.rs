use super::calibrate::Calibration;
use super::client::Target;
use super::plan::{object_bytes, object_path};

#[test]
fn targets_are_plain_http_with_a_base_path() {
    let t = Target::parse("http://127.0.0.1:8080/mirror").unwrap();
    assert_eq!((t.authority.as_str(), t.base.as_str()), ("127.0.0.1:8080", "/mirror/"));
    assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
    let t = Target::parse("http://127.0.0.1").unwrap();
    assert_eq!((t.addr.port(), t.base.as_str()), (80, "/"));
    let t = Target::parse("http://[::1]:9000/").unwrap();
    assert_eq!(t.addr, "[::1]:9000".parse().unwrap());
    for bad in ["https://mirror/", "ftp://x/", "127.0.0.1:80", "http:///x", "http://u@h/", "http://h/?q=1"] {
        assert!(Target::parse(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn object_paths_fill_the_template_and_stay_below_the_target() {
    assert_eq!(object_path("{patch}-{bytes}.bin", "KB5001", "cu", 42).unwrap(), "KB5001-42.bin");
    assert_eq!(object_path("/pool/{package}/{patch}.rpm", "A-1", "openssl", 1).unwrap(), "pool/openssl/A-1.rpm");
    for bad in ["../{patch}", "a//{patch}", "./{patch}", "{patch} x", "{patch}?x"] {
        assert!(object_path(bad, "P", "p", 1).is_err(), "{bad} accepted");
    }
    // 354.306 MB over 1000 is 354,306 bytes; never less than one byte.
    assert_eq!(object_bytes(354.306, 1000.0), 354_306);
    assert_eq!(object_bytes(0.000_000_1, 1000.0), 1);
}

#[test]
fn the_repository_section_is_valid_toml_with_four_significant_figures() {
    let calibration = Calibration {
        probe: 512,
        accepted: 400,
        refused: [("503".to_string(), 112)].into_iter().collect(),
        single_mbps: 0.524_288,
        aggregate_connections: 400,
        aggregate_mbps: 209.715_2,
    };
    let text = calibration.repository_section("http://m/", "win-mirror", &["WINDOWS".to_string()]);
    assert!(text.contains("download_mbps = 0.5243"), "{text}");
    assert!(text.contains("400 of 512 connections opened at once were served (503 x112)"), "{text}");
    let table: toml::Table = toml::from_str(&text).unwrap();
    let repository = &table["repository"].as_array().unwrap()[0];
    assert_eq!(repository["bandwidth_mbps"].as_float(), Some(209.7));
    assert_eq!(repository["max_connections"].as_integer(), Some(400));
    assert_eq!(repository["serves"].as_array().unwrap()[0].as_str(), Some("WINDOWS"));
    let uncapped = Calibration { accepted: 512, refused: Default::default(), ..calibration };
    assert!(uncapped.repository_section("http://m/", "m", &[]).contains("the cap is at least that"));
}
