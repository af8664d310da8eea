//! Tests of the SCAR YAML reader: positions found by walking the text,
//! serde_yaml's marks stripped, both file shapes read, and errors that
//! name their line and column.

use super::*;

const SAMPLE: &str = "functions:
  aws:
  - lambda:
      name: first
      memory: 64
      container:
        image: grycap/ffmpeg
  - lambda:
      name: second
      input:
      - storage_provider: minio
        path: b/in
";

#[test]
fn locate_walks_blocks() {
    let p = |segs: &[Seg<'_>]| locate(SAMPLE, segs);
    let l0 = [
        Seg::Key("functions"),
        Seg::Key("aws"),
        Seg::Index(0),
        Seg::Key("lambda"),
    ];
    assert_eq!(p(&l0), (3, 5));
    assert_eq!(p(&[&l0[..], &[Seg::Key("memory")]].concat()), (5, 15));
    let l1 = [
        Seg::Key("functions"),
        Seg::Key("aws"),
        Seg::Index(1),
        Seg::Key("lambda"),
    ];
    assert_eq!(p(&[&l1[..], &[Seg::Key("name")]].concat()), (9, 13));
    assert_eq!(
        p(&[
            &l1[..],
            &[
                Seg::Key("input"),
                Seg::Index(0),
                Seg::Key("storage_provider")
            ]
        ]
        .concat()),
        (11, 27)
    );
    assert_eq!(
        p(&[
            &l1[..],
            &[Seg::Key("input"), Seg::Index(0), Seg::Key("path")]
        ]
        .concat()),
        (12, 15)
    );
}

#[test]
fn marks_are_stripped() {
    assert_eq!(
        strip_marks(
            "functions.aws[0]: invalid type: string \"x\", expected i64 at line 5 column 15"
        ),
        "functions.aws[0]: invalid type: string \"x\", expected i64"
    );
}

fn parse_in(dir: &Path, yaml: &str) -> Result<Loaded, DefinitionError> {
    std::fs::write(dir.join("s.sh"), "echo hi\n").unwrap();
    let p = dir.join("f.yaml");
    std::fs::write(&p, yaml).unwrap();
    parse(yaml, &p)
}

#[test]
fn current_shape() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = parse_in(
        dir.path(),
        "functions:
  aws:
  - lambda:
      name: f
      memory: 1024
      init_script: s.sh
      environment:
        Variables:
          A: 1
      container:
        image: grycap/ffmpeg
        timeout_threshold: 5
        environment:
          Variables:
            B: two
      input:
      - storage_provider: s3
        path: bkt/in
        suffix: [.avi]
      output:
      - storage_provider: s3.my_s3
        path: bkt/out
        prefix: [result-]
    iam:
      role: arn:aws:iam::123456789012:role/scar
    cloudwatch:
      log_retention_policy_in_days: 30
  oscar:
  - my_oscar:
      name: x
",
    )
    .unwrap();
    let f = &loaded.functions[0];
    assert_eq!((f.name.as_str(), f.memory), ("f", 1024));
    assert_eq!(f.environment["A"], "1");
    assert_eq!(f.environment["B"], "two");
    assert_eq!(f.environment["SCAR_TIMEOUT_RESERVE_S"], "5");
    let input = f.input.as_ref().unwrap();
    assert_eq!(
        (input.bucket.as_str(), input.prefix.as_str()),
        ("bkt", "in/")
    );
    assert_eq!(input.suffixes, vec![".avi".to_owned()]);
    assert_eq!(f.outputs[0].prefix, "out/");
    assert_eq!(
        f.role.as_deref(),
        Some("arn:aws:iam::123456789012:role/scar")
    );
    assert_eq!(f.log_retention_days, Some(30));
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
}

#[test]
fn legacy_shape() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = parse_in(
            dir.path(),
            "functions:\n  scar-imagemagick:\n    image: grycap/imagemagick\n    init_script: s.sh\n    s3:\n      input_bucket: scar-im\n",
        )
        .unwrap();
    let f = &loaded.functions[0];
    assert_eq!(f.input.as_ref().unwrap().prefix, "input/");
    assert_eq!(f.outputs[0].prefix, "output/");
}

#[test]
fn errors_have_positions() {
    let dir = tempfile::tempdir().unwrap();
    let e = parse_in(dir.path(), SAMPLE).unwrap_err().to_string();
    assert!(e.contains("f.yaml:3:5:"), "{e}");
    assert!(e.contains("no init_script"), "{e}");
    let bad_provider = SAMPLE.replace("      memory: 64\n", "      init_script: s.sh\n").replace(
            "  - lambda:\n      name: second\n",
            "  - lambda:\n      name: second\n      init_script: s.sh\n      container: {image: x}\n",
        );
    let e = parse_in(dir.path(), &bad_provider).unwrap_err().to_string();
    assert!(e.contains(":13:27:") && e.contains("minio"), "{e}");
    let e = parse_in(
        dir.path(),
        "functions:\n  aws:\n  - lambda:\n      name: [x\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("f.yaml:"), "{e}");
    let e = parse_in(
        dir.path(),
        "functions:\n  aws:\n  - lambda:\n      name: f\n      memory: lots\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("f.yaml:5:15:"), "{e}");
}
