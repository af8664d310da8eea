//! One-shot mode end to end: pulling the rich image from a registry (by tag
//! and by digest), from an OCI layout and from a docker archive; the script's
//! exit code passed through; the paper's Figure 3 script; the time limit
//! killing the script's whole process group while keeping partial outputs.

use std::time::Duration;

use crate::fixtures::*;
use crate::support::*;

#[test]
fn pull_from_registry_applies_layers_and_reports_metrics() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = rich_image().build();
    image.push(&registry, "scar/rich", "v1");

    let (out, output_dir) = run_probe(&sandbox, &registry.tag_ref("scar/rich", "v1"), "registry");

    check_probe_run(&out, &output_dir, false, Some(&image.manifest_digest));
    check_rich_rootfs(&rootfs_dir(&sandbox.cache(), &image.manifest_digest));
    check_single_cached_image(&sandbox.cache(), &image.manifest_digest);
}

#[test]
fn oci_layout_and_docker_archive_give_the_registry_result() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = rich_image().build();
    image.push(&registry, "scar/rich", "v1");
    let layout = sandbox.path().join("layout");
    image.write_oci_layout(&layout, "v1");
    let archive = sandbox.path().join("rich.tar");
    image.write_docker_archive(&archive, "scar/rich:v1");

    let (from_registry, _) = run_probe(&sandbox, &registry.tag_ref("scar/rich", "v1"), "registry");
    assert_eq!(from_registry.code, 0, "{}", from_registry.describe());

    // Separate caches, so each source is really unpacked from its own bytes.
    let oci_box = Sandbox::new();
    let (from_oci, oci_out) = run_probe(&oci_box, &format!("oci:{}:v1", layout.display()), "oci");
    check_probe_run(&from_oci, &oci_out, false, Some(&image.manifest_digest));
    check_rich_rootfs(&rootfs_dir(&oci_box.cache(), &image.manifest_digest));
    check_single_cached_image(&oci_box.cache(), &image.manifest_digest);

    let archive_box = Sandbox::new();
    let (from_archive, archive_out) = run_probe(
        &archive_box,
        &format!("docker-archive:{}", archive.display()),
        "archive",
    );
    check_probe_run(&from_archive, &archive_out, false, None);
    // A docker archive has no manifest digest: the cache key is the image id.
    check_rich_rootfs(&rootfs_dir(&archive_box.cache(), &image.config_digest));
    check_single_cached_image(&archive_box.cache(), &image.config_digest);

    assert_eq!(
        from_oci.script_lines().len(),
        from_registry.script_lines().len()
    );
    let sorted = |o: &RunOutput| {
        let mut l: Vec<String> = o.script_lines().iter().map(|s| s.to_string()).collect();
        l.sort();
        l
    };
    assert_eq!(
        sorted(&from_oci),
        sorted(&from_registry),
        "oci: vs registry"
    );
    assert_eq!(
        sorted(&from_archive),
        sorted(&from_registry),
        "docker-archive: vs registry"
    );
}

#[test]
fn pull_by_digest_reference() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Gzip,
            vec![Entry::file("etc/marker", "by-digest\n", 0o644)],
        )
        .build();
    image.push(&registry, "scar/digest", "latest");
    let script = sandbox.script("s.sh", "cat /etc/marker\n");

    let reference = registry.digest_ref("scar/digest", &image.manifest_digest);
    let out = sandbox.oneshot(&reference, &script, "o").run();

    assert_eq!(out.code, 0, "{}", out.describe());
    assert_eq!(out.script_lines(), ["by-digest"], "{}", out.describe());
    let m = out.metrics();
    assert_eq!(m["ImageDigest"], image.manifest_digest.as_str(), "{m:#}");
    assert_eq!(m["CacheHit"], 0, "{m:#}");
    assert_eq!(
        std::fs::read_to_string(
            rootfs_dir(&sandbox.cache(), &image.manifest_digest).join("etc/marker")
        )
        .expect("rootfs keyed by the manifest digest"),
        "by-digest\n"
    );
    check_single_cached_image(&sandbox.cache(), &image.manifest_digest);
}

#[test]
fn script_exit_code_passes_through() {
    let sandbox = Sandbox::new();
    let layout = sandbox.path().join("layout");
    ImageSpec::busybox()
        .build()
        .write_oci_layout(&layout, "latest");
    let script = sandbox.script("fail.sh", "echo before-exit\nexit 3\necho after-exit\n");

    let out = sandbox
        .oneshot(&format!("oci:{}", layout.display()), &script, "o")
        .run();

    assert_eq!(out.code, 3, "{}", out.describe());
    assert_eq!(out.script_lines(), ["before-exit"], "{}", out.describe());
    let m = out.metrics();
    assert!(emf_problems(&m).is_empty(), "{:?}", emf_problems(&m));
    assert_eq!(m["ExitCode"], 3, "{m:#}");
}

/// The paper's Figure 3, with `sed` standing in for `ffmpeg` (same shape:
/// input path as an argument, output into `$OUTPUT_DIR/$FILENAME`, stdin from
/// `/dev/null`, backquotes and all).
const FIGURE_3: &str = r#"OUTPUT_DIR="/tmp/$REQUEST_ID/output"
echo "SCRIPT: Invoked Video Grayifier. File available in $SCAR_INPUT_FILE"
FILENAME=`basename $SCAR_INPUT_FILE`
OUTPUT_FILE=$OUTPUT_DIR/$FILENAME
echo "SCRIPT: Converting input video file $SCAR_INPUT_FILE to grayscale to output file $OUTPUT_FILE"
sed -e s/color/gray/g $SCAR_INPUT_FILE > $OUTPUT_FILE < /dev/null
"#;

#[test]
fn paper_figure_3_script_runs_unchanged() {
    let paper = std::fs::read_to_string("/work/shared/seed/scar-paper.txt")
        .or_else(|_| {
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../shared/seed/scar-paper.txt"),
            )
        })
        .ok();
    if let Some(paper) = paper {
        // Keep the fixture honest: the lines kept from the paper are really there.
        for line in FIGURE_3
            .lines()
            .filter(|l| !l.starts_with("sed ") && !l.starts_with("FILENAME"))
        {
            assert!(
                paper.contains(line),
                "Figure 3 line not in the paper: {line}"
            );
        }
        assert!(paper.contains("Figure 3: Sample script to perform video transcoding."));
    }
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = ImageSpec::busybox().build();
    image.push(&registry, "sameersbn/ffmpeg", "latest");
    let script = sandbox.script("process.sh", FIGURE_3);
    let input = sandbox.input("video.mp4", "a color video\ncolor frame 2\n");

    let run = sandbox
        .oneshot(
            &registry.tag_ref("sameersbn/ffmpeg", "latest"),
            &script,
            "o",
        )
        .input(&input);
    let output_dir = run.output_dir.clone();
    let out = run.run();

    assert_eq!(out.code, 0, "{}", out.describe());
    let rid = out.metrics()["RequestId"]
        .as_str()
        .expect("RequestId")
        .to_string();
    assert_eq!(
        out.script_lines(),
        [
            format!(
                "SCRIPT: Invoked Video Grayifier. File available in /tmp/{rid}/input/video.mp4"
            ),
            format!(
                "SCRIPT: Converting input video file /tmp/{rid}/input/video.mp4 to grayscale to output file /tmp/{rid}/output/video.mp4"
            ),
        ],
        "{}",
        out.describe()
    );
    assert_eq!(
        std::fs::read_to_string(output_dir.join("video.mp4")).expect("output video.mp4"),
        "a gray video\ngray frame 2\n"
    );
}

/// Host processes whose command line is exactly `sleep <secs>`.
fn sleepers(secs: u64) -> Vec<u32> {
    let want = format!("sleep\0{secs}\0");
    list_names(std::path::Path::new("/proc"))
        .into_iter()
        .filter_map(|n| n.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes())
        })
        .collect()
}

/// Kills (SIGKILL) leftover `sleep <secs>` processes when dropped, so a failing
/// timeout test does not leave them behind.
struct SleeperReaper(u64);

impl Drop for SleeperReaper {
    fn drop(&mut self) {
        for pid in sleepers(self.0) {
            // SAFETY: kill(2) on a pid we just read from /proc; no memory involved.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

#[test]
fn timeout_kills_process_group_and_keeps_partial_outputs() {
    // A sleep length no other test uses, to find our sleeps among host processes
    // whatever pid namespace the runtime puts them in.
    let secs = 1_000_000 + u64::from(std::process::id() % 100_000);
    let _reaper = SleeperReaper(secs);
    let sandbox = Sandbox::new();
    let layout = sandbox.path().join("layout");
    ImageSpec::busybox()
        .build()
        .write_oci_layout(&layout, "latest");
    let script = sandbox.script(
        "slow.sh",
        &format!(
            "sleep {secs} &\n\
             echo $! > \"$SCAR_OUTPUT_DIR/bg.pid\"\n\
             echo partial > \"$SCAR_OUTPUT_DIR/partial.txt\"\n\
             echo started\n\
             sleep {secs}\n\
             echo never\n"
        ),
    );

    let run = sandbox
        .oneshot(&format!("oci:{}", layout.display()), &script, "o")
        .timeout(2)
        .limit(Duration::from_secs(60));
    let output_dir = run.output_dir.clone();
    let out = run.run();

    assert_eq!(out.code, EXIT_TIMEOUT, "{}", out.describe());
    assert!(
        out.elapsed < Duration::from_secs(20),
        "a 2 s timeout took {:?}",
        out.elapsed
    );
    assert!(out.stdout.contains("started"), "{}", out.describe());
    assert!(!out.stdout.contains("never"), "{}", out.describe());
    assert_eq!(
        std::fs::read_to_string(output_dir.join("partial.txt"))
            .ok()
            .as_deref(),
        Some("partial\n"),
        "partial output must be copied out after a timeout"
    );
    let m = out.metrics();
    assert_eq!(m["ExitCode"], EXIT_TIMEOUT, "{m:#}");
    assert!(
        !out.pipes_left_open,
        "something the script started still holds the supervisor's output open"
    );
    // The background sleep (and the foreground one) must be gone.
    let pid_file = std::fs::read_to_string(output_dir.join("bg.pid")).expect("bg.pid output");
    let pid: u32 = pid_file.trim().parse().expect("pid in bg.pid");
    let gone = poll_until(Duration::from_secs(5), || {
        let ours = |p: u32| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c == format!("sleep\0{secs}\0").as_bytes())
        };
        (!ours(pid) && sleepers(secs).is_empty()).then_some(())
    });
    assert!(
        gone.is_some(),
        "sleep {secs} still alive after the timeout: {:?}",
        sleepers(secs)
    );
}
