//! Applying one layer's tar stream onto the root, entry by entry.
//!
//! This is where the safety rules listed in the parent module are enforced
//! for each entry kind (whiteouts, opaque markers, folders, files, links,
//! FIFOs; device nodes skipped). It is kept apart from the per-layer
//! pipeline in `unpack.rs` (decoding thread, digests, final modes) because
//! it is the longest single piece of the unpacker and concerns only what
//! one entry does to the tree.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt, symlink};

use super::fsops::{CopyError, Written, copy_buffered, create_dir, make_fifo, remove_any};
use super::names::{bytes_to_os, relative_name, split_last};
use super::{LayerStats, UnpackError, Unpacker, corrupt, io_err};

/// File contents go through this much at a time: one write per 64 KiB is
/// already cheap next to the file's creation, and the buffer is resident.
const COPY_BUFFER: usize = 64 * 1024;

impl Unpacker {
    pub(super) fn apply_tar(
        &mut self,
        stream: &mut dyn Read,
        layer: &str,
        stats: &mut LayerStats,
    ) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(stream);
        // What this layer wrote: whiteouts and opaque markers only remove
        // what lower layers made.
        let mut written = Written::new(&self.root);
        // One copy buffer for every file of the layer.
        let mut buf = vec![0u8; COPY_BUFFER];
        let entries = archive.entries().map_err(|e| corrupt(layer, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| corrupt(layer, e))?;
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let unsafe_entry = |reason: &str| UnpackError::Unsafe {
                layer: layer.to_owned(),
                entry: raw_name.clone(),
                reason: reason.to_owned(),
            };
            let rel = relative_name(&entry.path_bytes()).map_err(&unsafe_entry)?;
            let Some(rel) = rel else {
                continue; // the root itself ("./")
            };
            let kind = entry.header().entry_type();
            let (parent_rel, file_name) = split_last(&rel);

            // Whiteouts never create anything.
            if let Some(hidden) = file_name.to_str().and_then(|n| n.strip_prefix(".wh.")) {
                let Some(parent) = self
                    .resolve_dir(&parent_rel, false)
                    .map_err(|r| r.into_error(layer, &raw_name))?
                else {
                    continue; // nothing below to hide
                };
                if hidden == ".wh..opq" {
                    written
                        .remove_others_in(&parent)
                        .map_err(|e| io_err(layer, &parent, e))?;
                } else {
                    let target = parent.join(hidden);
                    if !written.contains(&target) {
                        remove_any(&target).map_err(|e| io_err(layer, &target, e))?;
                    }
                }
                stats.entries += 1;
                continue;
            }

            if kind.is_character_special() || kind.is_block_special() {
                stats.skipped_devices += 1;
                continue;
            }
            if !(kind.is_file()
                || kind.is_contiguous()
                || kind.is_dir()
                || kind.is_symlink()
                || kind.is_hard_link()
                || kind.is_fifo())
            {
                // PAX and GNU long-name headers are consumed by the tar reader;
                // anything else (sparse files, volume labels) is not image content.
                continue;
            }

            let parent = self
                .resolve_dir(&parent_rel, true)
                .map_err(|r| r.into_error(layer, &raw_name))?
                .ok_or_else(|| unsafe_entry("its parent folder could not be created"))?;
            let dest = parent.join(&file_name);
            let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;

            if kind.is_dir() {
                match fs::symlink_metadata(&dest) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        remove_any(&dest).map_err(|e| io_err(layer, &dest, e))?;
                        create_dir(&dest).map_err(|e| io_err(layer, &dest, e))?;
                    }
                    Err(_) => create_dir(&dest).map_err(|e| io_err(layer, &dest, e))?,
                }
                // Writable for us until finish(), whatever the image says.
                fs::set_permissions(&dest, fs::Permissions::from_mode(mode | 0o700))
                    .map_err(|e| io_err(layer, &dest, e))?;
                self.dir_modes.push((dest.clone(), mode));
            } else {
                remove_any(&dest).map_err(|e| io_err(layer, &dest, e))?;
                if kind.is_symlink() {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_entry("symlink without a target"))?;
                    symlink(bytes_to_os(&target), &dest).map_err(|e| io_err(layer, &dest, e))?;
                } else if kind.is_hard_link() {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_entry("hard link without a target"))?;
                    let target_rel = relative_name(&target)
                        .map_err(|r| unsafe_entry(&format!("hard link target {r}")))?
                        .ok_or_else(|| unsafe_entry("hard link to the root folder"))?;
                    let (t_parent, t_name) = split_last(&target_rel);
                    let t_dir = self
                        .resolve_dir(&t_parent, false)
                        .map_err(|r| r.into_error(layer, &raw_name))?
                        .ok_or_else(|| {
                            unsafe_entry("hard link target does not exist in the image")
                        })?;
                    let t_path = t_dir.join(t_name);
                    match fs::symlink_metadata(&t_path) {
                        Ok(m) if !m.is_dir() => {}
                        Ok(_) => return Err(unsafe_entry("hard link to a folder")),
                        Err(_) => {
                            return Err(unsafe_entry(
                                "hard link target does not exist in the image",
                            ));
                        }
                    }
                    fs::hard_link(&t_path, &dest).map_err(|e| io_err(layer, &dest, e))?;
                } else if kind.is_fifo() {
                    make_fifo(&dest, mode).map_err(|e| io_err(layer, &dest, e))?;
                } else {
                    let mut file = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .custom_flags(libc::O_NOFOLLOW)
                        .open(&dest)
                        .map_err(|e| io_err(layer, &dest, e))?;
                    let n =
                        copy_buffered(&mut entry, &mut file, &mut buf).map_err(|e| match e {
                            CopyError::Read(e) => corrupt(layer, e),
                            CopyError::Write(e) => io_err(layer, &dest, e),
                        })?;
                    stats.file_bytes += n;
                    file.set_permissions(fs::Permissions::from_mode(mode))
                        .map_err(|e| io_err(layer, &dest, e))?;
                }
            }
            written.insert(&dest);
            stats.entries += 1;
        }
        Ok(())
    }
}
