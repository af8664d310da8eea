//! [`Sandbox`]: one temporary folder per test holding everything a run
//! touches (cache, outputs, inputs, scripts, the supervisor's `TMPDIR`), removed
//! on drop, so tests never share state and assertions can walk all of it.

use std::path::{Path, PathBuf};

use super::run::OneShot;
use super::write_file;

/// A per-test folder: `cache/`, `out/`, `inputs/`, `scripts/`, `tmp/`.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh folder under the system temporary folder.
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("scar-test-")
            .tempdir()
            .expect("sandbox tempdir");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("sandbox tmp");
        Sandbox { dir }
    }

    /// The sandbox root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `ROOT/cache`: the `--cache-dir` of runs built by [`Sandbox::oneshot`].
    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// `ROOT/tmp`: the supervisor's `TMPDIR`.
    pub fn tmpdir(&self) -> PathBuf {
        self.path().join("tmp")
    }

    /// `ROOT/out-NAME`, created empty: an `--output-dir`.
    pub fn out(&self, name: &str) -> PathBuf {
        let dir = self.path().join(format!("out-{name}"));
        std::fs::create_dir_all(&dir).expect("output dir");
        dir
    }

    /// Write `ROOT/scripts/NAME` and return its path.
    pub fn script(&self, name: &str, text: &str) -> PathBuf {
        write_file(&self.path().join("scripts").join(name), text)
    }

    /// Write `ROOT/inputs/NAME` and return its path.
    pub fn input(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        write_file(&self.path().join("inputs").join(name), data)
    }

    /// A one-shot run of `script` on `image` with this sandbox's cache, a
    /// fresh output folder `out-<out_name>` and `TMPDIR` set to `ROOT/tmp`.
    pub fn oneshot(&self, image: &str, script: &Path, out_name: &str) -> OneShot {
        OneShot::new(image, script, &self.out(out_name))
            .cache_dir(&self.cache())
            .process_env("TMPDIR", self.tmpdir())
    }
}
