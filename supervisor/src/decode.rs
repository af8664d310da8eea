//! The decoding half of applying a layer: read, hash and decompress on a
//! thread of its own, hand the tar over in fixed-size chunks.
//!
//! Decompressing a layer and creating its files cost about the same on a
//! cold pull (inflate and SHA-256 in user time, inode creation in the
//! kernel); on one thread they add up, on two they overlap. The chunks
//! circulate between the two threads (filled by the decoder, emptied by the
//! unpacker, sent back), so the pipeline holds [`CHUNKS`] x [`CHUNK`] bytes
//! whatever the layer's size, and allocates them once.
//!
//! Digests are computed only when someone will check them: hashing a
//! 55 MB tar nobody compares is a fifth of the decoder's time.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::unpack::TimedRead;

/// Bytes of tar handed over at once: large enough that the hand-over is
/// rare, small enough that a few of them are a small part of the RSS budget.
const CHUNK: usize = 64 * 1024;

/// Chunks in circulation: lets the decoder run a little ahead of the
/// unpacker (a file's creation stalls it for a while) without holding much.
const CHUNKS: usize = 4;

/// Read size on the compressed stream (the decompressors' input buffer).
const INPUT_BUFFER: usize = 64 * 1024;

/// A filled chunk: `buf[..len]` is tar.
struct Chunk {
    buf: Vec<u8>,
    len: usize,
}

/// What the decoder learnt from a layer it read to its end.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// Bytes of the (possibly compressed) stream.
    pub compressed_bytes: u64,
    /// Time the source spent waiting for data (the network).
    pub waited: Duration,
    /// `sha256:HEX` of the stream, if it was asked for.
    pub blob_digest: Option<String>,
    /// `sha256:HEX` of the uncompressed tar, if it was asked for.
    pub tar_digest: Option<String>,
}

/// The decoder's end of the pipe.
pub(crate) struct ChunkSender {
    full: SyncSender<io::Result<Chunk>>,
    free: Receiver<Vec<u8>>,
}

/// The unpacker's end of the pipe: the layer's tar as a `Read`.
pub(crate) struct TarReader {
    full: Receiver<io::Result<Chunk>>,
    free: SyncSender<Vec<u8>>,
    current: Option<Chunk>,
    pos: usize,
    upstream_failed: bool,
}

/// A pipe between the decoding thread and the unpacker.
pub(crate) fn pipe() -> (ChunkSender, TarReader) {
    // Both channels hold every chunk at once, so a send never blocks and
    // only an empty channel makes either side wait.
    let (full_tx, full_rx) = mpsc::sync_channel(CHUNKS);
    let (free_tx, free_rx) = mpsc::sync_channel(CHUNKS);
    for _ in 0..CHUNKS {
        // Allocated on first use: a tiny layer never needs them all.
        let _ = free_tx.send(Vec::new());
    }
    (
        ChunkSender {
            full: full_tx,
            free: free_rx,
        },
        TarReader {
            full: full_rx,
            free: free_tx,
            current: None,
            pos: 0,
            upstream_failed: false,
        },
    )
}

impl TarReader {
    /// True once the decoder reported a failure through the pipe: a read
    /// error the unpacker then saw is the decoder's, not its own.
    pub(crate) fn upstream_failed(&self) -> bool {
        self.upstream_failed
    }

    /// Reads and discards what is left (the blocks after the end of the
    /// archive), so the decoder reaches the end of the stream and its digests
    /// cover every byte.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        self.recycle();
        loop {
            match self.full.recv() {
                Ok(Ok(chunk)) => {
                    let _ = self.free.send(chunk.buf);
                }
                Ok(Err(e)) => {
                    self.upstream_failed = true;
                    return Err(e);
                }
                Err(mpsc::RecvError) => return Ok(()),
            }
        }
    }

    fn recycle(&mut self) {
        if let Some(chunk) = self.current.take() {
            let _ = self.free.send(chunk.buf);
        }
        self.pos = 0;
    }
}

impl Read for TarReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(chunk) = &self.current
                && self.pos < chunk.len
            {
                let n = buf.len().min(chunk.len - self.pos);
                buf[..n].copy_from_slice(&chunk.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            // Give the emptied chunk back before waiting for the next one:
            // the decoder may be waiting for it.
            self.recycle();
            match self.full.recv() {
                Ok(Ok(chunk)) => self.current = Some(chunk),
                Ok(Err(e)) => {
                    self.upstream_failed = true;
                    return Err(e);
                }
                // The decoder is done: the end of the tar.
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
    }
}

/// Reads `source` to its end: hashes it if `hash_blob`, recognises gzip,
/// zstd or plain tar by the magic bytes, decompresses, hashes the tar if
/// `hash_tar`, and sends it through `pipe`. A failure is sent through the
/// pipe as well, so the unpacker stops at once. `Ok(None)`: the unpacker
/// hung up (it failed), nothing more to do.
pub(crate) fn run<R: TimedRead>(
    source: R,
    hash_blob: bool,
    hash_tar: bool,
    pipe: ChunkSender,
) -> io::Result<Option<Decoded>> {
    let result = decode(source, hash_blob, hash_tar, &pipe);
    if let Err(e) = &result {
        let _ = pipe.full.send(Err(io::Error::new(e.kind(), e.to_string())));
    }
    result
}

fn decode<R: TimedRead>(
    source: R,
    hash_blob: bool,
    hash_tar: bool,
    pipe: &ChunkSender,
) -> io::Result<Option<Decoded>> {
    let mut blob = HashingReader::new(source, hash_blob);
    let tar_digest = {
        let mut input = BufReader::with_capacity(INPUT_BUFFER, &mut blob);
        let magic = input.fill_buf()?;
        let decoded: Box<dyn Read + '_> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(input))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Box::new(zstd::stream::read::Decoder::with_buffer(input)?)
        } else {
            Box::new(input)
        };
        let mut tar = HashingReader::new(decoded, hash_tar);
        loop {
            let Ok(mut buf) = pipe.free.recv() else {
                return Ok(None);
            };
            // Once per chunk's life: later fills overwrite it.
            buf.resize(CHUNK, 0);
            let len = fill(&mut tar, &mut buf)?;
            if len == 0 {
                break;
            }
            if pipe.full.send(Ok(Chunk { buf, len })).is_err() {
                return Ok(None);
            }
        }
        tar.digest()
    };
    // The decompressor may stop before the source does (bytes after the
    // last frame): the blob digest covers every byte.
    io::copy(&mut blob, &mut io::sink())?;
    Ok(Some(Decoded {
        compressed_bytes: blob.count,
        waited: blob.inner.waited(),
        blob_digest: blob.digest(),
        tar_digest,
    }))
}

/// Reads until `buf` is full or the stream ends; the length read.
fn fill(from: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match from.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// Counts what passes through and hashes it when asked to.
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R, hash: bool) -> Self {
        HashingReader {
            inner,
            hasher: hash.then(Sha256::new),
            count: 0,
        }
    }

    fn digest(&self) -> Option<String> {
        self.hasher
            .as_ref()
            .map(|h| format!("sha256:{}", hex::encode(h.clone().finalize())))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::unpack::sha256_digest;

    /// Runs the decoder on its thread and reads everything it sends.
    fn through_pipe(blob: &[u8]) -> (Vec<u8>, Decoded) {
        let (sender, mut reader) = pipe();
        std::thread::scope(|s| {
            let decoder = s.spawn(|| run(blob, true, true, sender));
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            (out, decoder.join().unwrap().unwrap().unwrap())
        })
    }

    #[test]
    fn large_streams_cross_in_chunks_with_their_digests() {
        // Several chunks' worth, not a multiple of the chunk size.
        let tar: Vec<u8> = (0..CHUNK * CHUNKS * 3 + 123)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let (out, d) = through_pipe(&gz);
        assert!(out == tar, "the tar arrives intact");
        assert_eq!(d.compressed_bytes, gz.len() as u64);
        assert_eq!(d.blob_digest, Some(sha256_digest(&gz)));
        assert_eq!(d.tar_digest, Some(sha256_digest(&tar)));
    }

    #[test]
    fn digests_nobody_checks_are_not_computed() {
        let (sender, mut reader) = pipe();
        let d = std::thread::scope(|s| {
            let decoder = s.spawn(|| run(&b"plain tar bytes"[..], false, false, sender));
            reader.drain().unwrap();
            decoder.join().unwrap().unwrap().unwrap()
        });
        assert_eq!((d.blob_digest, d.tar_digest), (None, None));
        assert_eq!(d.compressed_bytes, 15);
    }

    #[test]
    fn a_decoding_failure_reaches_the_reader() {
        // A gzip header followed by garbage.
        let bad = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff];
        let (sender, mut reader) = pipe();
        std::thread::scope(|s| {
            let decoder = s.spawn(|| run(&bad[..], true, true, sender));
            assert!(reader.read_to_end(&mut Vec::new()).is_err());
            assert!(reader.upstream_failed());
            assert!(decoder.join().unwrap().is_err());
        });
    }

    #[test]
    fn the_decoder_stops_when_the_reader_hangs_up() {
        let tar = vec![0u8; CHUNK * CHUNKS * 4];
        let (sender, mut reader) = pipe();
        std::thread::scope(|s| {
            let decoder = s.spawn(|| run(&tar[..], false, false, sender));
            let mut first = [0u8; 10];
            reader.read_exact(&mut first).unwrap();
            drop(reader);
            assert!(decoder.join().unwrap().unwrap().is_none());
        });
    }
}
