//! `mediad`: see `mediad --help`.

use clap::Parser;
use daemon_support::{init_tracing, shutdown_signal};

fn main() -> anyhow::Result<()> {
    let mut cli = mediad::Cli::parse();
    if let Some(mediad::Command::Replay(args)) = cli.command.take() {
        return mediad::replay::run(args);
    }
    init_tracing(cli.log_format, "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(mediad::main_with(cli, shutdown_signal()))
}
