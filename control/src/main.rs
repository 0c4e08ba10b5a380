//! `control`: see `control --help`.

use clap::Parser;
use daemon_support::{init_tracing, shutdown_signal};

fn main() -> anyhow::Result<()> {
    let cli = control::Cli::parse();
    if let Some(command) = cli.command {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let token = cli.dashboard_token.as_deref();
        let code = runtime.block_on(async {
            match command {
                control::Command::Watch { cmd, server } => {
                    control::ops::run_watch(cmd, &server, token).await
                }
                control::Command::Share { cmd, server } => {
                    control::ops::run_share(cmd, &server, token).await
                }
            }
        });
        std::process::exit(code);
    }
    init_tracing(cli.log_format, "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(control::main_with(cli, shutdown_signal()))
}
