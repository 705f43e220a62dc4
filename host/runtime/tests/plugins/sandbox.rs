//! The sandbox: a WASI guest gets no files, environment, arguments or
//! sockets; its stdout and stderr go to the log.

use crate::harness::*;
use ravelin_test_guests::SANDBOX;

#[tokio::test]
async fn a_wasi_guest_cannot_read_files_env_or_open_sockets() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("sandbox", SANDBOX, serde_json::Value::Null)]).await;
    let (status, body) = responded(run(&chain, "/").await.1);
    assert_eq!(status, 200);
    assert_eq!(body, "file=false env=false socket=false args=0");
}
