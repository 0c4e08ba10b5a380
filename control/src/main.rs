//! `control`: see `control --help`.

use clap::Parser;
use daemon_support::{init_tracing, shutdown_signal};

fn main() -> anyhow::Result<()> {
    let cli = control::Cli::parse();
    if let Some(control::Command::Watch { cmd, server }) = cli.command {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let code = runtime.block_on(control::ops::run_watch(
            cmd,
            &server,
            cli.dashboard_token.as_deref(),
        ));
        std::process::exit(code);
    }
    init_tracing(cli.log_format, "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(control::main_with(cli, shutdown_signal()))
}
