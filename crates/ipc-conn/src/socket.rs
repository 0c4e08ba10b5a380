//! File-path local sockets through `interprocess`.
//!
//! A file path (not a Linux abstract name) is used because only a file can
//! carry permissions: the socket is created with mode 0600, so only the
//! user running mediad can connect to it.

use interprocess::local_socket::tokio::prelude::*;
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use interprocess::os::unix::local_socket::ListenerOptionsExt as _;
use std::io;
use std::path::{Path, PathBuf};

pub use interprocess::local_socket::tokio::{Listener, Stream};

/// Connects to the socket at `path`.
pub async fn connect(path: &Path) -> io::Result<Stream> {
    let name = path.to_fs_name::<GenericFilePath>()?;
    Stream::connect(name).await
}

/// A listening socket whose file is removed when this value is dropped.
pub struct SocketListener {
    listener: Listener,
    path: PathBuf,
}

impl SocketListener {
    /// Accepts one connection.
    pub async fn accept(&self) -> io::Result<Stream> {
        self.listener.accept().await
    }
    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Listens at `path` with mode 0600.
///
/// A socket file left behind by a crashed process is removed first; if
/// another process is actually listening there, this fails with
/// `AddrInUse` instead of stealing its address. Parent directories are
/// created (mode 0700) when missing.
pub async fn listen(path: &Path) -> io::Result<SocketListener> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)?;
        set_mode(dir, 0o700)?;
    }
    if path.exists() {
        match connect(path).await {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("another process is already listening on {}", path.display()),
                ));
            }
            Err(_) => {
                tracing::info!(path = %path.display(), "removing stale socket file");
                std::fs::remove_file(path)?;
            }
        }
    }
    let name = path.to_fs_name::<GenericFilePath>()?;
    let listener = ListenerOptions::new()
        .name(name)
        .mode(0o600)
        .reclaim_name(true)
        .create_tokio()?;
    Ok(SocketListener {
        listener,
        path: path.to_path_buf(),
    })
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn socket_is_private_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/m.sock");
        let l = listen(&path).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A second listener must not steal a live socket.
        let err = listen(&path).await.err().expect("second listen must fail");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(l);
        assert!(!path.exists(), "socket file removed on drop");
    }

    #[tokio::test]
    async fn stale_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        // A leftover socket file with nobody listening (as after SIGKILL).
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale);
        assert!(path.exists());
        let l = listen(&path).await.unwrap();
        let accept = tokio::spawn(async move { l.accept().await.map(|_| ()) });
        connect(&path).await.unwrap();
        accept.await.unwrap().unwrap();
    }
}
