//! Running the user's script inside an unpacked image.
//!
//! Three runtimes, one contract (`/bin/sh SCRIPT` in the image's WorkingDir,
//! the invocation's folder as the container's `/tmp`, the whole process group
//! killed at the deadline):
//! - `userns`: an unprivileged user + mount namespace made in the child
//!   between fork and exec (a multi-threaded parent cannot unshare a user
//!   namespace), the image root bind-mounted read-only so a script can never
//!   corrupt the shared cache, `/proc`, `/dev` and `/tmp` bound in, chroot.
//! - `proot`: ptrace-based, for platforms that deny user namespaces (AWS
//!   Lambda: aws-lambda-base-images issue 143).
//! - `host`: no isolation, for a function that already runs inside the image.
//!
//! `auto` tries `userns` and falls back to `proot` the first time the kernel
//! refuses, remembering the choice for the life of the process.

use std::ffi::CString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

pub use scar_contract::runtime::Runtime;

/// Why the script could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The container could not be created or the script not started.
    #[error("could not start the script with runtime {runtime} in {rootfs}: {source}; {hint}")]
    Spawn {
        /// The runtime tried.
        runtime: Runtime,
        /// The image root.
        rootfs: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
        /// How to fix it.
        hint: &'static str,
    },
    /// The proot runtime was asked for but no proot binary exists.
    #[error(
        "runtime proot needs a proot binary: none on PATH, beside the supervisor, or at SCAR_PROOT; install proot or set SCAR_PROOT"
    )]
    ProotMissing,
    /// Waiting for the script failed.
    #[error("waiting for the script failed: {0}")]
    Wait(#[source] io::Error),
}

/// What to run and where.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The runtime asked for.
    pub runtime: Runtime,
    /// The image root (unused by `host`).
    pub rootfs: PathBuf,
    /// Folder to start in, as seen by the script.
    pub workdir: Option<String>,
    /// The complete environment of the script.
    pub env: Vec<(String, String)>,
    /// Host folder that becomes the container's `/tmp` (`userns`, `proot`).
    pub host_tmp: PathBuf,
    /// The script's path as the script sees it.
    pub script: String,
    /// When the script's process group is killed.
    pub deadline: Option<Instant>,
}

/// How the script ended.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    /// Its exit code (128 + signal when killed by a signal).
    pub exit_code: i32,
    /// True when it was killed at the deadline.
    pub timed_out: bool,
    /// The runtime that ran it.
    pub runtime: Runtime,
    /// Wall time from start to exit.
    pub elapsed: Duration,
}

/// 0 unknown, 1 userns works, 2 userns denied (use proot).
static USERNS_STATE: AtomicU8 = AtomicU8::new(0);

/// Runs the script, streaming its stdout and stderr line by line to our stdout.
pub async fn run(spec: &RunSpec) -> Result<RunOutcome, ContainerError> {
    let started = Instant::now();
    let (mut child, runtime) = match spec.runtime {
        Runtime::Userns => (spawn_userns(spec)?, Runtime::Userns),
        Runtime::Proot => (spawn_proot(spec)?, Runtime::Proot),
        Runtime::Host => (spawn_host(spec)?, Runtime::Host),
        Runtime::Auto if USERNS_STATE.load(Ordering::Relaxed) == 2 => {
            (spawn_proot(spec)?, Runtime::Proot)
        }
        Runtime::Auto => match spawn_userns(spec) {
            Ok(c) => {
                USERNS_STATE.store(1, Ordering::Relaxed);
                (c, Runtime::Userns)
            }
            Err(ContainerError::Spawn { source, .. }) if is_namespace_denial(&source) => {
                USERNS_STATE.store(2, Ordering::Relaxed);
                eprintln!("scar: user namespaces are not available here ({source}); using proot");
                (spawn_proot(spec)?, Runtime::Proot)
            }
            Err(e) => return Err(e),
        },
    };
    let pid = child.id().map(|p| p as libc::pid_t);
    let pumps = [
        child.stdout.take().map(|s| tokio::spawn(pump(s))),
        child.stderr.take().map(|s| tokio::spawn(pump(s))),
    ];
    let (status, timed_out) = match spec.deadline {
        Some(deadline) => {
            tokio::select! {
                s = child.wait() => (s, false),
                _ = tokio::time::sleep_until(deadline.into()) => {
                    kill_group(pid);
                    (child.wait().await, true)
                }
            }
        }
        None => (child.wait().await, false),
    };
    // Whatever the script left running in the background dies with it: the
    // next invocation must not share the environment with stragglers, and
    // their open pipes would keep the log pumps from ending.
    kill_group(pid);
    let status = status.map_err(ContainerError::Wait)?;
    for pump in pumps.into_iter().flatten() {
        // A process that left the group (setsid) may still hold a pipe:
        // bound the wait rather than hang the invocation.
        let _ = tokio::time::timeout(Duration::from_secs(2), pump).await;
    }
    use std::os::unix::process::ExitStatusExt;
    let exit_code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    Ok(RunOutcome {
        exit_code,
        timed_out,
        runtime,
        elapsed: started.elapsed(),
    })
}

fn is_namespace_denial(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::ENOSYS | libc::EACCES | libc::EUSERS
        )
    )
}

fn kill_group(pid: Option<libc::pid_t>) {
    if let Some(pid) = pid.filter(|p| *p > 0) {
        // SAFETY: plain syscall; the group id is our child's pid (it leads its group).
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

/// Copies lines from a pipe to our stdout, never holding more than one
/// bounded line in memory.
async fn pump<R: AsyncRead + Unpin>(pipe: R) {
    const MAX_LINE: u64 = 256 * 1024;
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let n = match tokio::io::AsyncReadExt::take(&mut reader, MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let _ = n;
        let mut out = io::stdout().lock();
        let _ = out.write_all(&line);
        let _ = out.flush();
    }
}

fn base_command(program: &Path, spec: &RunSpec) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn spawn_host(spec: &RunSpec) -> Result<tokio::process::Child, ContainerError> {
    let mut cmd = base_command(Path::new("/bin/sh"), spec);
    cmd.arg(&spec.script).process_group(0);
    let cwd = spec
        .workdir
        .as_deref()
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| spec.host_tmp.clone());
    cmd.current_dir(cwd);
    cmd.spawn().map_err(|source| ContainerError::Spawn {
        runtime: Runtime::Host,
        rootfs: PathBuf::from("/"),
        source,
        hint: "the host runtime needs /bin/sh",
    })
}

/// Finds proot: `SCAR_PROOT`, beside our binary (as packaged for Lambda), then PATH.
pub fn find_proot() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SCAR_PROOT").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let p = dir.join("proot");
        if p.is_file() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("proot"))
            .find(|p| p.is_file())
    })
}

fn spawn_proot(spec: &RunSpec) -> Result<tokio::process::Child, ContainerError> {
    let proot = find_proot().ok_or(ContainerError::ProotMissing)?;
    let mut cmd = base_command(&proot, spec);
    let mut tmp_bind = spec.host_tmp.as_os_str().to_owned();
    tmp_bind.push(":/tmp");
    cmd.arg("-r")
        .arg(&spec.rootfs)
        .args(["-b", "/proc", "-b", "/dev", "-b"])
        .arg(tmp_bind)
        .arg("-w")
        .arg(spec.workdir.as_deref().unwrap_or("/"))
        .arg("/bin/sh")
        .arg(&spec.script)
        // proot writes its loader helper under PROOT_TMP_DIR; the image's
        // own /tmp is the invocation folder, keep it out of there.
        .env("PROOT_TMP_DIR", std::env::temp_dir())
        .process_group(0);
    cmd.spawn().map_err(|source| ContainerError::Spawn {
        runtime: Runtime::Proot,
        rootfs: spec.rootfs.clone(),
        source,
        hint: "check that proot runs on this machine (SCAR_PROOT names the binary)",
    })
}

/// Everything the child needs, prepared before fork: after fork only
/// async-signal-safe calls are allowed, so no allocation happens there.
struct UsernsPlan {
    uid_map: CString,
    gid_map: CString,
    rootfs: CString,
    proc_target: CString,
    dev_target: CString,
    tmp_source: CString,
    tmp_target: CString,
    resolv: Option<(CString, CString)>,
    workdir: CString,
    ro_flags: libc::c_ulong,
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

impl UsernsPlan {
    fn new(spec: &RunSpec) -> io::Result<UsernsPlan> {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let root = &spec.rootfs;
        // Mount flags the kernel locks on the source mount must be repeated on
        // the read-only remount, or it fails with EPERM inside the namespace.
        let mut ro_flags = (libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY) as libc::c_ulong;
        let root_c = cstr(root)?;
        // SAFETY: statvfs writes into the zeroed struct we own.
        unsafe {
            let mut st: libc::statvfs = std::mem::zeroed();
            if libc::statvfs(root_c.as_ptr(), &mut st) == 0 {
                let f = st.f_flag;
                for (st_flag, ms_flag) in [
                    (libc::ST_NOSUID, libc::MS_NOSUID),
                    (libc::ST_NODEV, libc::MS_NODEV),
                    (libc::ST_NOEXEC, libc::MS_NOEXEC),
                    (libc::ST_NOATIME, libc::MS_NOATIME),
                    (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
                    (libc::ST_RELATIME, libc::MS_RELATIME),
                ] {
                    if f & st_flag != 0 {
                        ro_flags |= ms_flag as libc::c_ulong;
                    }
                }
            }
        }
        let resolv = {
            let inside = root.join("etc/resolv.conf");
            let host = Path::new("/etc/resolv.conf");
            match (std::fs::symlink_metadata(&inside), std::fs::metadata(host)) {
                (Ok(m), Ok(h)) if m.is_file() && h.is_file() => Some((cstr(host)?, cstr(&inside)?)),
                _ => None,
            }
        };
        Ok(UsernsPlan {
            uid_map: CString::new(format!("0 {uid} 1\n")).map_err(io::Error::other)?,
            gid_map: CString::new(format!("0 {gid} 1\n")).map_err(io::Error::other)?,
            rootfs: root_c,
            proc_target: cstr(&root.join("proc"))?,
            dev_target: cstr(&root.join("dev"))?,
            tmp_source: cstr(&spec.host_tmp)?,
            tmp_target: cstr(&root.join("tmp"))?,
            resolv,
            workdir: CString::new(spec.workdir.as_deref().unwrap_or("/"))
                .map_err(io::Error::other)?,
            ro_flags,
        })
    }

    /// Runs in the forked child. Only raw syscalls on prepared buffers.
    fn enter(&self) -> io::Result<()> {
        fn check(r: libc::c_int) -> io::Result<()> {
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        }
        fn write_file(path: &std::ffi::CStr, data: &std::ffi::CStr) -> io::Result<()> {
            // SAFETY: valid NUL-terminated strings; fd closed on every path.
            unsafe {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let bytes = data.to_bytes();
                let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
                let err = io::Error::last_os_error();
                libc::close(fd);
                if n != bytes.len() as isize {
                    return Err(err);
                }
            }
            Ok(())
        }
        let null = std::ptr::null::<libc::c_char>();
        let bind_rec = (libc::MS_BIND | libc::MS_REC) as libc::c_ulong;
        // SAFETY: every pointer is a prepared NUL-terminated string or null,
        // as mount(2), chroot(2) and chdir(2) expect.
        unsafe {
            check(libc::setpgid(0, 0))?;
            check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS))?;
            // Writing "deny" first is what lets an unprivileged process map its gid.
            let _ = write_file(c"/proc/self/setgroups", c"deny");
            write_file(c"/proc/self/uid_map", &self.uid_map)?;
            write_file(c"/proc/self/gid_map", &self.gid_map)?;
            check(libc::mount(
                null,
                c"/".as_ptr(),
                null,
                (libc::MS_REC | libc::MS_PRIVATE) as libc::c_ulong,
                null.cast(),
            ))?;
            check(libc::mount(
                self.rootfs.as_ptr(),
                self.rootfs.as_ptr(),
                null,
                bind_rec,
                null.cast(),
            ))?;
            // Read-only image root: best effort (a kernel that refuses still
            // runs the script, as SCAR's udocker did, with a writable root).
            let _ = libc::mount(null, self.rootfs.as_ptr(), null, self.ro_flags, null.cast());
            check(libc::mount(
                c"/proc".as_ptr(),
                self.proc_target.as_ptr(),
                null,
                bind_rec,
                null.cast(),
            ))?;
            check(libc::mount(
                c"/dev".as_ptr(),
                self.dev_target.as_ptr(),
                null,
                bind_rec,
                null.cast(),
            ))?;
            check(libc::mount(
                self.tmp_source.as_ptr(),
                self.tmp_target.as_ptr(),
                null,
                libc::MS_BIND as libc::c_ulong,
                null.cast(),
            ))?;
            if let Some((src, dst)) = &self.resolv {
                let _ = libc::mount(
                    src.as_ptr(),
                    dst.as_ptr(),
                    null,
                    libc::MS_BIND as libc::c_ulong,
                    null.cast(),
                );
            }
            check(libc::chroot(self.rootfs.as_ptr()))?;
            if libc::chdir(self.workdir.as_ptr()) != 0 {
                check(libc::chdir(c"/".as_ptr()))?;
            }
        }
        Ok(())
    }
}

fn spawn_userns(spec: &RunSpec) -> Result<tokio::process::Child, ContainerError> {
    let err = |source: io::Error| ContainerError::Spawn {
        runtime: Runtime::Userns,
        rootfs: spec.rootfs.clone(),
        source,
        hint: "user namespaces may be disabled here (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces); use --runtime proot",
    };
    let plan = UsernsPlan::new(spec).map_err(err)?;
    let mut cmd = base_command(Path::new("/bin/sh"), spec);
    cmd.arg(&spec.script);
    // SAFETY: `enter` only makes async-signal-safe syscalls on buffers
    // prepared before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || plan.enter());
    }
    cmd.spawn().map_err(err)
}
