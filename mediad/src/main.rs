//! `mediad`: see `mediad --help`.

use std::process::ExitCode;

use clap::Parser;
use daemon_support::{init_tracing, shutdown_signal};

fn main() -> anyhow::Result<ExitCode> {
    let mut cli = mediad::Cli::parse();
    match cli.command.take() {
        Some(mediad::Command::Replay(args)) => {
            mediad::replay::run(args)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(mediad::Command::Health(args)) => {
            return Ok(if mediad::health::run(&args, &cli.ipc_socket) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        None => {}
    }
    init_tracing(cli.log_format, "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(mediad::main_with(cli, shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
}
