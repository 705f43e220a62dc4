//! Thread-per-core workers. With `server.scheduler = "thread-per-core"`,
//! each of the N workers is one OS thread running tokio's current-thread
//! runtime, with its own `SO_REUSEPORT` copy of every listener (the kernel
//! spreads new connections across them) and its own share of every
//! upstream pool ([`PerWorker`]), so a request is accepted, proxied and
//! answered on one thread with no cross-thread wake-ups. Worker 0 is the
//! main thread, which also runs everything that is not a connection: the
//! admin listener, reloads, health checks, ACME and HTTP/3.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpSocket;

static COUNT: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    static INDEX: Cell<usize> = const { Cell::new(0) };
}

/// How many workers share the connections: 1 unless thread-per-core.
pub fn count() -> usize {
    COUNT.load(Ordering::Relaxed)
}

/// Declares the number of workers, before any pool is built.
pub fn set_count(workers: usize) {
    COUNT.store(workers.max(1), Ordering::Relaxed);
}

/// This thread's worker: 0 on every thread that is not a worker.
pub fn index() -> usize {
    INDEX.with(Cell::get)
}

/// One `T` per worker, so workers never contend for it or hand its
/// contents (connections registered with one runtime) to another.
pub struct PerWorker<T>(Box<[T]>);

impl<T> PerWorker<T> {
    pub fn new(make: impl FnMut() -> T) -> Self {
        Self(std::iter::repeat_with(make).take(count()).collect())
    }

    /// The calling worker's `T` (worker 0's on any other thread).
    pub fn local(&self) -> &T {
        &self.0[index() % self.0.len()]
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

/// Binds `copies` sockets on `addr`, with `SO_REUSEPORT` when there is
/// more than one, as std listeners that each worker registers with its own
/// runtime.
pub fn bind(
    name: &str,
    addr: SocketAddr,
    copies: usize,
) -> Result<Vec<std::net::TcpListener>, String> {
    let mut addr = addr;
    if copies > 1 {
        // A port another process holds must fail here as it does with one
        // worker, not be shared through SO_REUSEPORT: a plain bind tells.
        // It also settles port 0 for all the copies.
        addr = socket(name, addr, false)?
            .local_addr()
            .map_err(|e| format!("listener {name}: {e}"))?;
    }
    (0..copies.max(1))
        .map(|_| {
            socket(name, addr, copies > 1)?
                .listen(4096)
                .and_then(|l| l.into_std())
                .map_err(|e| format!("listener {name} cannot listen on {addr}: {e}"))
        })
        .collect()
}

fn socket(name: &str, addr: SocketAddr, reuse_port: bool) -> Result<TcpSocket, String> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("listener {name}: {e}"))?;
    let _ = socket.set_reuseaddr(true);
    if reuse_port {
        socket
            .set_reuseport(true)
            .map_err(|e| format!("listener {name}: SO_REUSEPORT: {e}"))?;
    }
    socket
        .bind(addr)
        .map_err(|e| format!("listener {name} cannot bind {addr}: {e}"))?;
    Ok(socket)
}

/// Starts worker `index` on its own thread: a current-thread runtime that
/// runs `work` to its end.
pub fn spawn<F>(index: usize, work: F) -> Result<std::thread::JoinHandle<()>, String>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start worker {index}'s runtime: {e}"))?;
    std::thread::Builder::new()
        .name(format!("ravelin-worker-{index}"))
        .spawn(move || {
            INDEX.with(|cell| cell.set(index));
            runtime.block_on(work);
        })
        .map_err(|e| format!("cannot start worker {index}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn copies_share_one_port_and_each_accepts() {
        let copies = bind("test", loopback(), 2).unwrap();
        let addrs: Vec<_> = copies.iter().map(|l| l.local_addr().unwrap()).collect();
        assert_ne!(addrs[0].port(), 0);
        assert_eq!(addrs[0], addrs[1]);
        // The kernel hands each new connection to one of the copies.
        let listeners: Vec<_> = copies
            .into_iter()
            .map(|l| tokio::net::TcpListener::from_std(l).unwrap())
            .collect();
        let _client = tokio::net::TcpStream::connect(addrs[0]).await.unwrap();
        let accepted = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            tokio::select! {
                a = listeners[0].accept() => a,
                b = listeners[1].accept() => b,
            }
        })
        .await
        .expect("neither copy accepted the connection");
        assert!(accepted.is_ok());
    }

    #[test]
    fn a_port_held_elsewhere_fails_with_several_copies_too() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        // Another process's listeners, sharing theirs with SO_REUSEPORT.
        let theirs = bind("theirs", loopback(), 2).unwrap();
        let taken = theirs[0].local_addr().unwrap();
        for copies in [1, 2] {
            let error = bind("ours", taken, copies).unwrap_err();
            assert!(
                error.starts_with(&format!("listener ours cannot bind {taken}:")),
                "{error}"
            );
        }
    }

    #[test]
    fn each_worker_has_its_own_share() {
        let shares = PerWorker::new(|| std::sync::atomic::AtomicUsize::new(0));
        shares.local().fetch_add(1, Ordering::Relaxed);
        let seen: Vec<_> = shares.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        assert_eq!(seen.iter().sum::<usize>(), 1);
        // This thread is not a worker: it gets worker 0's share.
        assert_eq!(seen[0], 1);
    }
}
