//! `ipc-tap`: see `ipc-tap --help`.

use clap::Parser;
use daemon_support::{init_tracing, shutdown_signal};

fn main() -> anyhow::Result<()> {
    let cli = ipc_tap::Cli::parse();
    init_tracing(cli.log_format, "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(ipc_tap::main_with(cli, shutdown_signal()))
}
