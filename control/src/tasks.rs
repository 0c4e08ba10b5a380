//! control's long-lived tasks (media client, gateway, watch manager, brain,
//! conversation, voice, HTTP) in one [`JoinSet`], each under its name.
//!
//! `main_with` waits for the shutdown signal *or* the first task that
//! panics: a panic is logged with the task's name and stops the whole
//! daemon (every other task is told to stop and awaited), and `main_with`
//! returns an error naming the task, so the process exits non-zero and its
//! supervisor restarts it, never leaving a half-dead daemon that answers
//! `/healthz` without, say, a gateway. A task that returns before shutdown
//! is logged and the others keep running (the HTTP server ends only on a
//! serve error, the conversation when the gateway closes its events).

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::watch;
use tokio::task::{Id, JoinError, JoinSet};

/// The named long-lived tasks of the daemon and their one stop signal.
pub struct Tasks {
    set: JoinSet<()>,
    names: HashMap<Id, &'static str>,
    stop: watch::Sender<bool>,
    /// Testing aid (`--test-panic-task NAME`, hidden): the task of that
    /// name panics as it starts instead of running.
    panic_in: Option<String>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.names.values().collect();
        names.sort();
        f.debug_struct("Tasks").field("running", &names).finish()
    }
}

/// How a task ended.
#[derive(Debug)]
pub enum Ended {
    /// It returned.
    Returned(&'static str),
    /// It panicked, with the panic's message when it was a string.
    Panicked(&'static str, String),
    /// It was cancelled (the runtime shutting down).
    Cancelled(&'static str),
}

impl Tasks {
    /// An empty set; `panic_in` names a task to make panic (tests only).
    pub fn new(panic_in: Option<String>) -> Self {
        Self {
            set: JoinSet::new(),
            names: HashMap::new(),
            stop: watch::channel(false).0,
            panic_in,
        }
    }

    /// A future that resolves once [`Self::stop`] was called: each task's
    /// shutdown input.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }

    /// Tells every task to stop.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Spawns `task` under `name`.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = if self.panic_in.as_deref() == Some(name) {
            drop(task);
            self.set.spawn(async move {
                panic!("injected panic in the {name} task (--test-panic-task)")
            })
        } else {
            self.set.spawn(task)
        };
        self.names.insert(handle.id(), name);
    }

    /// How many tasks are still running.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when no task is running.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Waits for the next task to end; `None` when none is left.
    pub async fn next(&mut self) -> Option<Ended> {
        let ended = match self.set.join_next_with_id().await? {
            Ok((id, ())) => Ended::Returned(self.name(id)),
            Err(e) => {
                let name = self.name(e.id());
                if e.is_panic() {
                    Ended::Panicked(name, panic_message(e))
                } else {
                    Ended::Cancelled(name)
                }
            }
        };
        Some(ended)
    }

    fn name(&mut self, id: Id) -> &'static str {
        self.names.remove(&id).unwrap_or("unnamed")
    }
}

fn panic_message(e: JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned())
}

/// Logs how a task ended; returns the panicked task's name and message.
pub fn log_end(ended: &Ended, shutting_down: bool) -> Option<(&'static str, &str)> {
    match ended {
        Ended::Returned(name) if shutting_down => {
            tracing::debug!(task = name, "task stopped");
            None
        }
        Ended::Returned(name) => {
            tracing::warn!(task = name, "task ended before shutdown");
            None
        }
        Ended::Cancelled(name) => {
            tracing::warn!(task = name, "task cancelled");
            None
        }
        Ended::Panicked(name, message) => {
            tracing::error!(task = name, panic = %message, "task panicked: stopping control");
            Some((name, message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_how_each_task_ended() {
        let mut tasks = Tasks::new(Some("bad".into()));
        tasks.spawn("good", async {});
        tasks.spawn("bad", async {});
        tasks.spawn("worse", async { panic!("boom") });
        let mut ends = Vec::new();
        while let Some(e) = tasks.next().await {
            ends.push(format!("{e:?}"));
        }
        ends.sort();
        assert_eq!(
            ends,
            [
                "Panicked(\"bad\", \"injected panic in the bad task (--test-panic-task)\")",
                "Panicked(\"worse\", \"boom\")",
                "Returned(\"good\")",
            ]
        );
        assert!(tasks.is_empty());
    }

    /// Runs the daemon with `--test-panic-task NAME` and returns how
    /// `main_with` ended (it must end by itself: the shutdown never fires).
    async fn run_with_panic_in(name: &str, discord: bool) -> Result<(), String> {
        use clap::Parser as _;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let socket = dir.path().join("mediad.sock");
        let mut args = vec![
            "control".to_owned(),
            "--http-addr=127.0.0.1:0".to_owned(),
            format!("--data-dir={}", data.display()),
            format!("--mediad-socket={}", socket.display()),
            format!("--test-panic-task={name}"),
        ];
        if discord {
            // A gateway that refuses connections (nothing listens on port 9
            // of loopback): the session retries, never reaching the internet.
            args.push("--discord-token=test-token".to_owned());
            args.push("--gateway-url=wss://127.0.0.1:9".to_owned());
            args.push("--rest-base=https://127.0.0.1:9/api/v10".to_owned());
        } else {
            args.push("--discord-token=".to_owned());
        }
        let cli = crate::Cli::try_parse_from(args).unwrap();
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            crate::main_with(cli, std::future::pending()),
        )
        .await
        .expect("a panicking task stops the daemon by itself")
        .map_err(|e| e.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_task_stops_the_daemon_with_its_name() {
        for name in ["media client", "http"] {
            let err = run_with_panic_in(name, false).await.unwrap_err();
            assert_eq!(
                err,
                format!(
                    "the {name} task panicked: injected panic in the {name} task (--test-panic-task)"
                )
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_task_of_the_discord_side_stops_the_daemon() {
        for name in ["gateway", "watch manager", "brain", "conversation", "voice"] {
            let err = run_with_panic_in(name, true).await.unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("the {name} task panicked")),
                "{name}: {err}"
            );
        }
    }
}
