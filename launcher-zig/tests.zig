//! The test root's list of files: `zig build test` runs the tests in each.

test {
    _ = @import("protocol.zig");
    _ = @import("decode.zig");
    _ = @import("decode_test.zig");
    _ = @import("sys.zig");
    _ = @import("events.zig");
    _ = @import("root.zig");
    _ = @import("files.zig");
    _ = @import("mounts.zig");
    _ = @import("process.zig");
    _ = @import("exec.zig");
    _ = @import("ns.zig");
    _ = @import("monitor.zig");
    _ = @import("run.zig");
    _ = @import("cgroup.zig");
    _ = @import("idmap.zig");
    _ = @import("idmap_helper.zig");
    _ = @import("hook.zig");
    _ = @import("status.zig");
    _ = @import("control.zig");
    _ = @import("control_test.zig");
    _ = @import("server.zig");
    _ = @import("teardown.zig");
    _ = @import("control_plan.zig");
    _ = @import("nft.zig");
    _ = @import("fs_plan.zig");
    _ = @import("fs_userns.zig");
    _ = @import("copy_tree.zig");
    _ = @import("overlay_probe.zig");
    _ = @import("write_stream.zig");
    _ = @import("overlay.zig");
    _ = @import("self_protect.zig");
    _ = @import("state.zig");
    _ = @import("tidy.zig");
    _ = @import("logger.zig");
    _ = @import("init.zig");
    _ = @import("attach.zig");
    _ = @import("net.zig");
    _ = @import("netlink.zig");
    _ = @import("dns_message.zig");
    _ = @import("dns_main.zig");
    _ = @import("dns_tcp.zig");
    _ = @import("runc_main.zig");
    _ = @import("runc_state.zig");
    _ = @import("runc_act.zig");
}
