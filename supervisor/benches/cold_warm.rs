//! Cold and warm starts of scar-supervisor against its peers, in one run.
//!
//! Same images, same local `docker-registry`, same machine:
//! - cold: pull + unpack + first run of a trivial script (fresh cache);
//! - warm: a cache hit running the same trivial script;
//! - peers: udocker 1.3.17 (what SCAR ships into Lambda; P1 = proot mode),
//!   and a bare `unshare -Urm chroot ROOTFS /bin/sh -c true`, the floor for
//!   any namespace-based runtime;
//! - unpack throughput against `gzip -dc | tar x` of the same layer.
//!
//! It prints medians (this machine is noisy), ratios, the supervisor's peak
//! RSS (through /usr/bin/time) and its binary size. udocker is installed from PyPI into
//! `$SCAR_BENCH_DIR` (default `/var/tmp/scar-bench`) by `bench/udocker-env.sh`;
//! if that fails, its rows say so and the rest still runs.
//!
//! Run: `cargo bench -p scar-supervisor --bench cold_warm`
//! (`SCAR_BENCH_QUICK=1` for fewer rounds).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// One finished child: wall time and exit status.
struct Timed {
    wall: Duration,
    ok: bool,
}

/// Runs a command to completion, measuring its wall time; stderr is kept
/// for the failure message.
fn timed(cmd: &mut Command) -> Timed {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let wall = start.elapsed();
    let ok = out.status.success();
    if !ok {
        eprintln!(
            "  command failed: {cmd:?}\n  {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Timed { wall, ok }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The udocker peer, set up offline by bench/udocker-env.sh.
struct Udocker {
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Udocker {
    fn setup(base: &Path) -> Result<Udocker, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/udocker-env.sh");
        let out = Command::new("sh")
            .arg(&script)
            .arg(base)
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        let mut env = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                env.push((k.to_owned(), v.trim_matches('\'').to_owned()));
            }
        }
        let dir = env
            .iter()
            .find(|(k, _)| k == "UDOCKER_DIR")
            .map(|(_, v)| PathBuf::from(v))
            .ok_or("udocker-env.sh printed no UDOCKER_DIR")?;
        Ok(Udocker { env, dir })
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("udocker");
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.args(["--allow-root", "-q"]).args(args);
        c
    }

    fn reset(&self) {
        for sub in ["repos", "layers", "containers"] {
            let _ = std::fs::remove_dir_all(self.dir.join(sub));
        }
    }

    /// pull + create + setup P1 + run: the cold path SCAR takes.
    fn cold(&self, registry: &str, repo_tag: &str) -> Option<Duration> {
        self.reset();
        let reg = format!("--registry=http://{registry}");
        let start = Instant::now();
        let steps: [Vec<&str>; 4] = [
            vec!["pull", &reg, repo_tag],
            vec!["create", "--name=bench", repo_tag],
            vec!["setup", "--execmode=P1", "bench"],
            vec![
                "run",
                "--hostauth",
                "--workdir=/",
                "--nobanner",
                "bench",
                "/bin/sh",
                "-c",
                "true",
            ],
        ];
        for s in &steps {
            if !timed(&mut self.cmd(s)).ok {
                return None;
            }
        }
        Some(start.elapsed())
    }

    fn warm(&self) -> Timed {
        timed(&mut self.cmd(&[
            "run",
            "--hostauth",
            "--workdir=/",
            "--nobanner",
            "bench",
            "/bin/sh",
            "-c",
            "true",
        ]))
    }
}

/// A layer made of a real tree of the host (many small files), to measure
/// unpack throughput on something shaped like a real image.
fn tree_layer(root: &Path) -> Vec<Entry> {
    let mut entries = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<Entry>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut children: Vec<_> = rd.flatten().collect();
        children.sort_by_key(|e| e.file_name());
        for e in children {
            let path = e.path();
            let rel = format!("opt/tree/{}", path.strip_prefix(base).unwrap().display());
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                if let Ok(t) = std::fs::read_link(&path) {
                    out.push(Entry::symlink(&rel, &t.to_string_lossy()));
                }
            } else if ft.is_dir() {
                out.push(Entry::dir(&rel, 0o755));
                walk(base, &path, out);
            } else if ft.is_file()
                && let Ok(data) = std::fs::read(&path)
            {
                out.push(Entry::file(&rel, data, 0o644));
            }
        }
    }
    entries.push(Entry::dir("opt", 0o755));
    entries.push(Entry::dir("opt/tree", 0o755));
    walk(root, root, &mut entries);
    entries
}

fn scar_run(bin: &Path, image: &str, script: &Path, out: &Path, cache: &Path) -> Timed {
    let mut c = Command::new(bin);
    c.args(["run", "--image", image, "--script"])
        .arg(script)
        .arg("--output-dir")
        .arg(out)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--runtime", "userns"]);
    timed(&mut c)
}

fn main() {
    let quick = std::env::var_os("SCAR_BENCH_QUICK").is_some();
    let rounds = |full: usize, q: usize| if quick { q } else { full };
    let bin = supervisor_bin();
    let work = tempfile::Builder::new()
        .prefix("scar-bench-")
        .tempdir_in("/var/tmp")
        .expect("bench dir");
    let w = work.path();
    let script = write_file(&w.join("true.sh"), "true\n");
    let out = w.join("out");

    println!("scar-supervisor cold/warm benchmark ({})", bin.display());
    let registry = Registry::start();
    let busybox = ImageSpec::busybox().build();
    busybox.push(&registry, "bench/busybox", "1");
    let tree_root = ["/usr/lib/python3.11", "/usr/share/perl", "/usr/share/doc"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_dir())
        .expect("a host tree to build the large image from");
    let large = ImageSpec::busybox()
        .with_layer(Compression::Gzip, tree_layer(tree_root))
        .build();
    large.push(&registry, "bench/large", "1");
    let large_bytes: usize = large.layers.iter().map(|l| l.blob.len()).sum();
    let large_tar: usize = large.layers.iter().map(|l| l.tar.len()).sum();
    println!(
        "images: busybox {:.1} MB compressed; large (busybox + {}) {:.1} MB compressed, {:.1} MB of tar",
        busybox.layers[0].blob.len() as f64 / 1e6,
        tree_root.display(),
        large_bytes as f64 / 1e6,
        large_tar as f64 / 1e6
    );

    let udocker = match Udocker::setup(&PathBuf::from(
        std::env::var("SCAR_BENCH_DIR").unwrap_or_else(|_| "/var/tmp/scar-bench".into()),
    )) {
        Ok(u) => Some(u),
        Err(e) => {
            println!("udocker unavailable, its rows are skipped: {e}");
            None
        }
    };

    let mut rows: Vec<(String, String, String, String)> = Vec::new();

    for (name, scar_n, ud_n) in [
        ("busybox", rounds(15, 5), rounds(7, 3)),
        ("large", rounds(5, 2), rounds(3, 1)),
    ] {
        let reference = registry.tag_ref(&format!("bench/{name}"), "1");
        let mut cold = Vec::new();
        for i in 0..scar_n {
            let cache = w.join(format!("cold-{name}-{i}"));
            let t = scar_run(&bin, &reference, &script, &out, &cache);
            assert!(t.ok, "scar cold run failed");
            cold.push(t.wall);
            let _ = std::fs::remove_dir_all(&cache);
        }
        let scar_cold = median(cold);
        let ud_cold = udocker.as_ref().and_then(|u| {
            let v: Vec<Duration> = (0..ud_n)
                .filter_map(|_| u.cold(registry.addr(), &format!("bench/{name}:1")))
                .collect();
            (!v.is_empty()).then(|| median(v))
        });
        rows.push((
            format!("cold, {name} image (pull+unpack+run)"),
            format!("{:.1}", ms(scar_cold)),
            ud_cold.map_or("n/a".into(), |d| format!("{:.1}", ms(d))),
            ud_cold.map_or("n/a".into(), |d| {
                format!("{:.1}x faster", ms(d) / ms(scar_cold))
            }),
        ));
    }

    // Unpack throughput: the large image's layers through gzip -dc | tar x,
    // from files on disk (no network), against scar's UnpackMs for them.
    {
        let blobs = w.join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        let mut gz = Vec::new();
        for _ in 0..rounds(3, 1) {
            let dest = w.join("gztar");
            let _ = std::fs::remove_dir_all(&dest);
            std::fs::create_dir_all(&dest).unwrap();
            let mut total = Duration::ZERO;
            for (i, l) in large.layers.iter().enumerate() {
                let f = blobs.join(format!("{i}.tar.gz"));
                std::fs::write(&f, &l.blob).unwrap();
                let t = timed(Command::new("sh").arg("-c").arg(format!(
                    "gzip -dc {} | tar -x -C {}",
                    f.display(),
                    dest.display()
                )));
                total += t.wall;
            }
            gz.push(total);
        }
        let gz = median(gz);
        let oci = w.join("large-oci");
        large.write_oci_layout(&oci, "1");
        let mut unpack = Vec::new();
        for i in 0..rounds(3, 1) {
            let cache = w.join(format!("unpack-{i}"));
            let mut c = Command::new(&bin);
            c.args(["run", "--image"])
                .arg(format!("oci:{}:1", oci.display()))
                .arg("--script")
                .arg(&script)
                .arg("--output-dir")
                .arg(&out)
                .arg("--cache-dir")
                .arg(&cache);
            let o = c.output().expect("scar run");
            let stdout = String::from_utf8_lossy(&o.stdout);
            let m = last_line_metrics(&stdout).expect("metrics line");
            let total = m["UnpackMs"].as_u64().unwrap_or(0) + m["PullMs"].as_u64().unwrap_or(0);
            unpack.push(Duration::from_millis(total));
            let _ = std::fs::remove_dir_all(&cache);
        }
        let unpack = median(unpack);
        rows.push((
            "unpack large image from disk (scar: oci layout)".into(),
            format!("{:.1}", ms(unpack)),
            format!("{:.1} (gzip -dc | tar x)", ms(gz)),
            format!("{:.2}x", ms(gz) / ms(unpack).max(0.001)),
        ));
    }

    // Warm: a cache hit running `true`, against the bare namespace floor.
    let reference = registry.tag_ref("bench/busybox", "1");
    let cache = w.join("warm-cache");
    assert!(scar_run(&bin, &reference, &script, &out, &cache).ok);
    let n = rounds(41, 11);
    let mut warm = Vec::new();
    for _ in 0..n {
        let t = scar_run(&bin, &reference, &script, &out, &cache);
        assert!(t.ok);
        warm.push(t.wall);
    }
    let scar_warm = median(warm);
    let rootfs = rootfs_dir(&cache, &busybox.manifest_digest);
    let bare: Vec<Duration> = (0..n)
        .map(|_| {
            timed(
                Command::new("unshare")
                    .args(["-Urm", "chroot"])
                    .arg(&rootfs)
                    .args(["/bin/sh", "-c", "true"]),
            )
            .wall
        })
        .collect();
    let bare = median(bare);
    let ud_warm = udocker.as_ref().and_then(|u| {
        u.cold(registry.addr(), "bench/busybox:1")?;
        let v: Vec<Duration> = (0..rounds(11, 3)).map(|_| u.warm().wall).collect();
        Some(median(v))
    });
    rows.push((
        "warm, busybox image (cache hit, run true)".into(),
        format!("{:.1}", ms(scar_warm)),
        ud_warm.map_or("n/a".into(), |d| format!("{:.1}", ms(d))),
        ud_warm.map_or("n/a".into(), |d| {
            format!("{:.1}x faster", ms(d) / ms(scar_warm))
        }),
    ));
    rows.push((
        "warm overhead over bare `unshare -Urm chroot`".into(),
        format!("{:+.2}", ms(scar_warm) - ms(bare)),
        format!("bare: {:.2}", ms(bare)),
        "target <= +2 ms".into(),
    ));
    // Peak RSS through /usr/bin/time: wait4 on a child spawned from this
    // (large) process would report this process's pages, inherited at
    // vfork/fork, as the child's high-water mark. The worst of a few runs
    // per case: a peak is a bound, not a typical value.
    let peak_of = |reference: &str, cache: &dyn Fn(usize) -> PathBuf| -> Option<i64> {
        let mut worst = None;
        for i in 0..rounds(3, 1) {
            let cache = cache(i);
            let rss_file = w.join("rss.txt");
            let t = timed(
                Command::new("/usr/bin/time")
                    .args(["-f", "%M", "-o"])
                    .arg(&rss_file)
                    .arg(&bin)
                    .args(["run", "--image", reference, "--script"])
                    .arg(&script)
                    .arg("--output-dir")
                    .arg(&out)
                    .arg("--cache-dir")
                    .arg(&cache),
            );
            let kb = std::fs::read_to_string(&rss_file)
                .ok()
                .and_then(|s| s.trim().lines().last()?.parse::<i64>().ok())
                .filter(|_| t.ok)?;
            worst = worst.max(Some(kb));
        }
        worst
    };
    let fresh = |name: &'static str| move |i: usize| w.join(format!("rss-{name}-{i}"));
    let peaks = [
        (
            "cold large",
            peak_of(&registry.tag_ref("bench/large", "1"), &fresh("large")),
        ),
        (
            "cold busybox",
            peak_of(&registry.tag_ref("bench/busybox", "1"), &fresh("busybox")),
        ),
        (
            "warm busybox",
            peak_of(&registry.tag_ref("bench/busybox", "1"), &|_| cache.clone()),
        ),
    ];
    let peak_rss = peaks.iter().filter_map(|(_, kb)| *kb).max();
    if peaks.iter().any(|(_, kb)| kb.is_none()) {
        println!(
            "peak RSS not measured for every case: a run failed, or /usr/bin/time (Debian package `time`) is missing"
        );
    }
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    rows.push((
        "peak RSS of scar-supervisor (cold and warm, worst)".into(),
        peak_rss.map_or("n/a".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0)),
        String::new(),
        "target <= 10 MB".into(),
    ));
    rows.push((
        "binary size (this build)".into(),
        format!("{:.1} MB", size as f64 / 1e6),
        String::new(),
        "target <= 10 MB".into(),
    ));

    println!();
    println!(
        "| {:<50} | {:>14} | {:>26} | {:>16} |",
        "median of runs, ms", "scar-supervisor", "peer (udocker 1.3.17 P1)", "ratio"
    );
    println!("|{:-<52}|{:->16}|{:->28}|{:->18}|", "", "", "", "");
    for (a, b, c, d) in rows {
        println!("| {a:<50} | {b:>14} | {c:>26} | {d:>16} |");
    }
    let peaks: Vec<String> = peaks
        .iter()
        .map(|(case, kb)| {
            kb.map_or(format!("{case} n/a"), |kb| {
                format!("{case} {:.1} MB", kb as f64 / 1024.0)
            })
        })
        .collect();
    println!("peak RSS, worst of the runs: {}", peaks.join(", "));
}
