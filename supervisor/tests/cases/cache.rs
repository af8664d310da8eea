//! The image cache: a second run is a cache hit that needs no registry and
//! does not unpack again; leftovers of an interrupted unpack are recovered
//! from; two cold runs at once share one unpack.

use crate::fixtures::*;
use crate::support::*;

#[test]
fn second_run_is_a_cache_hit_without_network_or_unpack() {
    let sandbox = Sandbox::new();
    let mut registry = Registry::start();
    let image = rich_image().build();
    image.push(&registry, "scar/rich", "v1");
    let reference = registry.tag_ref("scar/rich", "v1");

    let (cold, cold_out) = run_probe(&sandbox, &reference, "cold");
    check_probe_run(&cold, &cold_out, false, Some(&image.manifest_digest));
    let rootfs = rootfs_dir(&sandbox.cache(), &image.manifest_digest);
    let inode_before = inode_of(&rootfs);
    let busybox_inode_before = inode_of(&rootfs.join("bin/busybox"));

    // No network from here on: the registry is gone and its port refuses.
    registry.stop();
    assert!(
        std::net::TcpStream::connect(registry.addr()).is_err(),
        "registry still answering after stop"
    );

    let (warm, warm_out) = run_probe(&sandbox, &reference, "warm");
    check_probe_run(&warm, &warm_out, true, Some(&image.manifest_digest));
    assert_eq!(
        inode_of(&rootfs),
        inode_before,
        "rootfs folder replaced: the image was unpacked again"
    );
    assert_eq!(
        inode_of(&rootfs.join("bin/busybox")),
        busybox_inode_before,
        "rootfs files replaced: the image was unpacked again"
    );
    check_rich_rootfs(&rootfs);
    check_single_cached_image(&sandbox.cache(), &image.manifest_digest);
}

#[test]
fn leftover_partial_unpack_is_recovered() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Zstd,
            vec![Entry::file("etc/marker", "fresh\n", 0o644)],
        )
        .build();
    image.push(&registry, "scar/recover", "v1");
    // What a supervisor killed in the middle of an unpack leaves behind.
    let partial = sandbox
        .cache()
        .join("tmp")
        .join(format!("sha256-{}.partial-123", image.manifest_hex()));
    write_file(&partial.join("rootfs/bin/junk"), "half-written");
    write_file(&partial.join("rootfs/etc/marker"), "stale");
    let script = sandbox.script(
        "s.sh",
        "cat /etc/marker\ntest -e /bin/junk && echo junk-present\necho done\n",
    );

    let out = sandbox
        .oneshot(&registry.tag_ref("scar/recover", "v1"), &script, "o")
        .run();

    assert_eq!(out.code, 0, "{}", out.describe());
    assert_eq!(out.script_lines(), ["fresh", "done"], "{}", out.describe());
    let rootfs = rootfs_dir(&sandbox.cache(), &image.manifest_digest);
    assert!(
        !exists_nofollow(&rootfs.join("bin/junk")),
        "stale partial content ended up in the rootfs"
    );
    assert!(
        !partial.exists(),
        "stale partial unpack {} left in place",
        partial.display()
    );
    check_single_cached_image(&sandbox.cache(), &image.manifest_digest);
}

#[test]
fn concurrent_cold_runs_unpack_once() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = rich_image().build();
    image.push(&registry, "scar/rich", "v1");
    let reference = registry.tag_ref("scar/rich", "v1");
    let script = sandbox.script("s.sh", "cat /etc/motd\n");
    let runs: Vec<OneShot> = (0..2)
        .map(|i| sandbox.oneshot(&reference, &script, &format!("o{i}")))
        .collect();

    let outputs: Vec<RunOutput> = std::thread::scope(|s| {
        let handles: Vec<_> = runs.iter().map(|r| s.spawn(|| r.run())).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("run thread"))
            .collect()
    });

    let mut hits = Vec::new();
    for out in &outputs {
        assert_eq!(out.code, 0, "{}", out.describe());
        assert_eq!(
            out.script_lines(),
            ["welcome to scar, layer 4"],
            "{}",
            out.describe()
        );
        hits.push(out.metrics()["CacheHit"].as_u64().expect("CacheHit"));
    }
    hits.sort();
    assert_eq!(
        hits,
        [0, 1],
        "exactly one of two concurrent runs unpacks; the other waits and hits"
    );
    check_rich_rootfs(&rootfs_dir(&sandbox.cache(), &image.manifest_digest));
    check_single_cached_image(&sandbox.cache(), &image.manifest_digest);
}
