//! A real OCI registry for the registry tests: Debian's `docker-registry`
//! (CNCF distribution) on a free loopback port, with its own config file
//! (its packaged one listens on every interface), storage in a temporary
//! directory, optionally behind htpasswd basic auth; killed on drop, and
//! stoppable and restartable on the same port with the same storage to play
//! an outage.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

pub struct RegistryServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

/// The user and password of a registry started with [`RegistryServer::with_auth`].
pub const USER: &str = "ravelin";
pub const PASSWORD: &str = "registry-test-password";

/// An installed binary; the tests fail without it.
fn binary(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: run scripts/setup (it installs the {package} package)")
    })
}

impl RegistryServer {
    /// Starts an open registry and waits until it answers.
    pub fn start() -> RegistryServer {
        Self::start_with(false)
    }

    /// Starts a registry that needs [`USER`] and [`PASSWORD`].
    pub fn with_auth() -> RegistryServer {
        Self::start_with(true)
    }

    fn start_with(auth: bool) -> RegistryServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        write_config(dir.path(), addr, auth);
        let mut server = RegistryServer {
            child: None,
            addr,
            dir,
        };
        server.resume();
        server
    }

    /// `127.0.0.1:PORT`, as references name the registry.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The file holding the blob with `digest` (`sha256:…`) in the
    /// registry's storage, to tamper with.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Kills the registry (SIGKILL); its storage stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the registry again on the same port with the same storage.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the registry is already running");
        let log = self.dir.path().join("registry.log");
        let child = Command::new(binary("docker-registry", "docker-registry"))
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("registry log"))
            .spawn()
            .expect("start docker-registry");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("docker-registry exited with {status}:\n{log}");
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry on {} did not start listening", self.addr);
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The registry's config: loopback only, filesystem storage in `dir`,
/// htpasswd basic auth when `auth`.
fn write_config(dir: &Path, addr: SocketAddr, auth: bool) {
    let storage = dir.join("storage");
    std::fs::create_dir_all(&storage).expect("registry storage dir");
    let mut config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
         delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: ravelin-test-secret\n",
        storage.display()
    );
    if auth {
        let htpasswd = dir.join("htpasswd");
        let output = Command::new(binary("htpasswd", "apache2-utils"))
            .args(["-Bbn", USER, PASSWORD])
            .output()
            .expect("run htpasswd");
        assert!(output.status.success(), "htpasswd failed");
        std::fs::write(&htpasswd, output.stdout).expect("write htpasswd");
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: ravelin-test\n    path: {}\n",
            htpasswd.display()
        ));
    }
    std::fs::write(dir.join("config.yml"), config).expect("write the registry config");
}
