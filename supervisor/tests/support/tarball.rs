//! A hand-written ustar archive writer. Every header field is set from raw
//! bytes, so test layers can carry names and link targets that a careful tar
//! library refuses to write (`../x`, `/abs`, links out of the tree).

/// Tar entry type flags used by the fixtures.
pub mod kind {
    /// Regular file.
    pub const FILE: u8 = b'0';
    /// Hard link (`linkname` is the target's path in the archive).
    pub const HARDLINK: u8 = b'1';
    /// Symbolic link.
    pub const SYMLINK: u8 = b'2';
    /// Character device node.
    pub const CHAR_DEVICE: u8 = b'3';
    /// Directory.
    pub const DIR: u8 = b'5';
}

/// One header's worth of metadata, all taken verbatim.
#[derive(Clone, Debug)]
pub struct RawHeader<'a> {
    /// Entry name bytes, written as-is (split into ustar prefix/name when over 100 bytes).
    pub name: &'a [u8],
    /// Permission bits (and sticky/setuid bits), e.g. `0o755`.
    pub mode: u32,
    /// One of [`kind`].
    pub typeflag: u8,
    /// Link target for hard and symbolic links.
    pub linkname: &'a [u8],
    /// Device numbers for device nodes.
    pub devmajor: u32,
    /// Device numbers for device nodes.
    pub devminor: u32,
}

/// Fixed modification time of every entry, so builds are reproducible.
pub const MTIME: u64 = 1_700_000_000;

/// Accumulates a tar archive in memory.
#[derive(Default)]
pub struct TarWriter {
    buf: Vec<u8>,
}

impl TarWriter {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one entry: a header built from `header` and `data` padded to 512 bytes.
    pub fn append(&mut self, header: &RawHeader<'_>, data: &[u8]) {
        let block = make_header(header, data.len() as u64);
        self.buf.extend_from_slice(&block);
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, data: &[u8], mode: u32) {
        self.append(&plain(name.as_bytes(), mode, kind::FILE, b""), data);
    }

    /// A directory (a trailing `/` is added when missing).
    pub fn dir(&mut self, name: &str, mode: u32) {
        let name = if name.ends_with('/') {
            name.to_string()
        } else {
            format!("{name}/")
        };
        self.append(&plain(name.as_bytes(), mode, kind::DIR, b""), b"");
    }

    /// A symbolic link `name -> target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.append(
            &plain(name.as_bytes(), 0o777, kind::SYMLINK, target.as_bytes()),
            b"",
        );
    }

    /// A hard link `name` to the archive member (or any path) `target`.
    pub fn hardlink(&mut self, name: &str, target: &str) {
        self.append(
            &plain(name.as_bytes(), 0o644, kind::HARDLINK, target.as_bytes()),
            b"",
        );
    }

    /// Finish with the two zero blocks and return the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend(std::iter::repeat_n(0u8, 1024));
        self.buf
    }
}

fn plain<'a>(name: &'a [u8], mode: u32, typeflag: u8, linkname: &'a [u8]) -> RawHeader<'a> {
    RawHeader {
        name,
        mode,
        typeflag,
        linkname,
        devmajor: 0,
        devminor: 0,
    }
}

fn octal(field: &mut [u8], value: u64) {
    // width-1 octal digits then NUL, as GNU tar and the tar crate write them.
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    assert!(
        text.len() == digits,
        "value {value} does not fit a {}-byte tar field",
        field.len()
    );
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

fn make_header(h: &RawHeader<'_>, size: u64) -> [u8; 512] {
    let mut b = [0u8; 512];
    let (prefix, name) = split_name(h.name);
    b[..name.len()].copy_from_slice(name);
    octal(&mut b[100..108], u64::from(h.mode));
    octal(&mut b[108..116], 0); // uid
    octal(&mut b[116..124], 0); // gid
    octal(&mut b[124..136], size);
    octal(&mut b[136..148], MTIME);
    b[156] = h.typeflag;
    assert!(
        h.linkname.len() <= 100,
        "tar fixture link target over 100 bytes"
    );
    b[157..157 + h.linkname.len()].copy_from_slice(h.linkname);
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    b[265..269].copy_from_slice(b"root");
    b[297..301].copy_from_slice(b"root");
    octal(&mut b[329..337], u64::from(h.devmajor));
    octal(&mut b[337..345], u64::from(h.devminor));
    b[345..345 + prefix.len()].copy_from_slice(prefix);
    // Checksum: sum of all bytes with the checksum field read as spaces.
    b[148..156].copy_from_slice(b"        ");
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    let text = format!("{sum:06o}\0 ");
    b[148..156].copy_from_slice(text.as_bytes());
    b
}

/// Split a name into (ustar prefix, name) at a `/` when it is over 100 bytes.
fn split_name(name: &[u8]) -> (&[u8], &[u8]) {
    if name.len() <= 100 {
        return (b"", name);
    }
    for (i, &c) in name.iter().enumerate().rev() {
        if c == b'/' && i <= 155 && name.len() - i - 1 <= 100 && i > 0 {
            return (&name[..i], &name[i + 1..]);
        }
    }
    panic!(
        "tar fixture name too long for ustar: {}",
        String::from_utf8_lossy(name)
    );
}
