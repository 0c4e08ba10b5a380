//! Running the offline tools (pocketsphinx, espeak-ng) as subprocesses at
//! low priority, with a time limit and clear errors.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use crate::error::SpeechError;

/// Longest stderr excerpt kept in an error.
const MAX_STDERR_CHARS: usize = 300;

/// What a finished tool printed.
#[derive(Debug)]
pub(crate) struct ToolOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The CPU priority the offline tools run at.
///
/// Speech work shares the machine with the voice and video paths (RTP
/// pacing, decoding, heartbeats), which must never wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// SCHED_IDLE (`chrt --idle 0`): only otherwise idle CPU, preempted at
    /// once by anything else (the llm crate's OCR runs so). Falls back to
    /// [`Priority::Low`] without `chrt`. On a busy machine this makes
    /// recognition slower.
    #[default]
    Idle,
    /// `nice -n 19` (falls back to normal without `nice`).
    Low,
    /// The daemon's own priority.
    Normal,
}

impl Priority {
    fn launchers(self) -> &'static [&'static [&'static str]] {
        match self {
            Priority::Idle => &[&["chrt", "--idle", "0"], &["nice", "-n", "19"], &[]],
            Priority::Low => &[&["nice", "-n", "19"], &[]],
            Priority::Normal => &[&[]],
        }
    }
}

/// Runs `program args…` at `priority` with `stdin` written to it, killed
/// after `timeout` (and when the future is dropped). `package` names the
/// Debian package in the "not installed" error.
pub(crate) async fn run_tool(
    program: &Path,
    args: &[OsString],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    package: &str,
    priority: Priority,
) -> Result<ToolOutput, SpeechError> {
    let name = program.display().to_string();
    let missing = |message: String| SpeechError::ToolMissing {
        program: name.clone(),
        package: package.to_owned(),
        message,
    };
    let command = |launcher: &[&str]| {
        let mut c = match launcher.split_first() {
            Some((launcher, launcher_args)) => {
                let mut c = tokio::process::Command::new(launcher);
                c.args(launcher_args).arg(program);
                c
            }
            None => tokio::process::Command::new(program),
        };
        c.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    };
    let mut spawned = Err(std::io::Error::other("no launcher"));
    for launcher in priority.launchers() {
        spawned = command(launcher).spawn();
        if spawned.is_ok() {
            break;
        }
    }
    let mut child = spawned.map_err(|e| missing(e.to_string()))?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(data), Some(mut pipe)) => Some(tokio::spawn(async move {
            // A write error means the tool exited early; its status says why.
            let _ = pipe.write_all(&data).await;
            let _ = pipe.shutdown().await;
        })),
        _ => None,
    };
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| SpeechError::Timeout {
            provider: name.clone(),
            timeout,
        })?
        .map_err(|e| SpeechError::ToolFailed {
            program: name.clone(),
            message: e.to_string(),
        })?;
    if let Some(writer) = writer {
        writer.abort();
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = tail_chars(stderr.trim(), MAX_STDERR_CHARS);
        if output.status.code() == Some(127) {
            // The launcher ran but could not start the tool.
            return Err(missing(stderr));
        }
        return Err(SpeechError::ToolFailed {
            program: name,
            message: format!("exited with {}: {stderr}", output.status),
        });
    }
    Ok(ToolOutput {
        stdout: output.stdout,
        stderr: output.stderr,
    })
}

/// The last `max` characters of `text` (errors come at the end of a log).
pub(crate) fn tail_chars(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(count - max));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_program_is_named_with_its_package() {
        let err = run_tool(
            Path::new("/nonexistent/speech-tool"),
            &[],
            None,
            Duration::from_secs(5),
            "some-package",
            Priority::Idle,
        )
        .await
        .expect_err("missing");
        assert!(matches!(err, SpeechError::ToolMissing { .. }), "{err}");
        assert!(err.to_string().contains("install the some-package package"));
    }

    #[tokio::test]
    async fn stdin_stdout_failure_and_timeout() {
        let out = run_tool(
            Path::new("cat"),
            &[],
            Some(b"hello".to_vec()),
            Duration::from_secs(5),
            "coreutils",
            Priority::Normal,
        )
        .await
        .expect("cat");
        assert_eq!(out.stdout, b"hello");
        let err = run_tool(
            Path::new("sh"),
            &["-c".into(), "echo broken >&2; exit 3".into()],
            None,
            Duration::from_secs(5),
            "dash",
            Priority::Low,
        )
        .await
        .expect_err("exit 3");
        assert!(matches!(err, SpeechError::ToolFailed { .. }));
        assert!(err.to_string().contains("broken"), "{err}");
        let err = run_tool(
            Path::new("sleep"),
            &["5".into()],
            None,
            Duration::from_millis(100),
            "coreutils",
            Priority::Normal,
        )
        .await
        .expect_err("timeout");
        assert!(matches!(err, SpeechError::Timeout { .. }));
        assert!(err.is_retryable());
    }

    #[test]
    fn tails() {
        assert_eq!(tail_chars("abcdef", 3), "…def");
        assert_eq!(tail_chars("ab", 3), "ab");
    }
}
