//! Exchanges against scripted origins on loopback sockets: what the codec
//! does with answers that come early, upgrades, trailers, bodies delimited
//! by the close, and connections that are gone.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, StreamBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// An origin that runs `script` on its first connection, and a connection
/// to it.
async fn connected<F, Fut>(script: F) -> (Http1, tokio::task::JoinHandle<()>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let origin = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        script(socket).await;
    });
    let stream = TcpStream::connect(address).await.unwrap();
    (Http1::new(Box::new(stream)), origin)
}

/// Reads up to the end of a request head.
async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if socket.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A connection to an origin that reads one request head and sends
/// `wire`; then it closes the connection, or holds it open for a while.
async fn answered(wire: &'static [u8], then_close: bool) -> Http1 {
    let (conn, _origin) = connected(move |mut socket| async move {
        read_head(&mut socket).await;
        socket.write_all(wire).await.unwrap();
        if !then_close {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
    .await;
    conn
}

fn pool() -> Arc<IdlePool<Http1>> {
    Arc::new(IdlePool::new(4, Duration::from_secs(60)))
}

fn get(path: &str) -> Request<ProxyBody> {
    Request::get(path).body(crate::compress::full("")).unwrap()
}

async fn exchange(conn: Http1, request: Request<ProxyBody>) -> Response<ResponseBody> {
    match conn.exchange(request, &pool()).await {
        Ok(response) => response,
        Err(Failure::Unsent(_, e) | Failure::Failed(e)) => panic!("exchange failed: {e}"),
    }
}

#[tokio::test]
async fn an_answer_that_comes_before_the_request_body_is_read() {
    let conn = answered(
        b"HTTP/1.1 413 Content Too Large\r\ncontent-length: 7\r\n\r\ntoo big",
        false,
    )
    .await;
    // A body that never ends.
    let (_more, frames) =
        tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, BoxError>>(1);
    let body = StreamBody::new(tokio_stream_of(frames)).boxed();
    let request = Request::post("/upload").body(body).unwrap();
    let response = exchange(conn, request).await;
    assert_eq!(response.status(), 413);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "too big");
}

fn tokio_stream_of<T: Send + 'static>(
    mut receiver: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn a_101_hands_over_the_socket_with_the_bytes_read_after_the_head() {
    let (conn, _origin) = connected(|mut socket| async move {
        read_head(&mut socket).await;
        socket
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nhello ")
            .await
            .unwrap();
        let mut buf = [0u8; 5];
        socket.read_exact(&mut buf).await.unwrap();
        socket.write_all(&buf).await.unwrap();
    })
    .await;
    let mut response = exchange(conn, get("/chat")).await;
    assert_eq!(response.status(), 101);
    assert!(response.body().is_end_stream());
    let mut origin = response
        .extensions_mut()
        .remove::<OriginUpgrade>()
        .and_then(|u| u.take())
        .expect("the upgraded connection");
    origin.write_all(b"world").await.unwrap();
    let mut echoed = vec![0u8; 11];
    origin.read_exact(&mut echoed).await.unwrap();
    assert_eq!(echoed, b"hello world");
}

#[tokio::test]
async fn chunked_answers_keep_their_trailers() {
    let conn = answered(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\ngrpc-status: 0\r\n\r\n",
        false,
    )
    .await;
    let response = exchange(conn, get("/")).await;
    let collected = response.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");
    assert_eq!(collected.to_bytes(), "ok");
}

#[tokio::test]
async fn a_body_without_framing_runs_to_the_close() {
    let conn = answered(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", true).await;
    let response = exchange(conn, get("/")).await;
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "until the end");
}

#[tokio::test]
async fn a_body_cut_short_is_an_error() {
    let conn = answered(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial",
        true,
    )
    .await;
    let response = exchange(conn, get("/")).await;
    let error = response.into_body().collect().await.unwrap_err();
    assert!(matches!(error, Http1Error::Truncated), "{error}");
}

#[tokio::test]
async fn a_close_before_the_head_fails_the_exchange() {
    let conn = answered(b"", true).await;
    match conn.exchange(get("/"), &pool()).await {
        Err(Failure::Failed(Http1Error::ClosedBeforeHead)) => {}
        Err(Failure::Failed(e) | Failure::Unsent(_, e)) => panic!("unexpected failure: {e}"),
        Ok(_) => panic!("an answer from nowhere"),
    }
}

#[tokio::test]
async fn a_connection_reset_before_the_request_gives_the_request_back() {
    let (conn, origin) = connected(|socket| async move {
        socket2::SockRef::from(&socket)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(socket);
    })
    .await;
    origin.await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut conn = conn;
    assert!(!conn.is_reusable(), "the reset is seen at checkout");
    match conn.exchange(get("/again"), &pool()).await {
        Err(Failure::Unsent(request, _)) => assert_eq!(request.uri(), "/again"),
        Err(Failure::Failed(e)) => panic!("the request was lost: {e}"),
        Ok(_) => panic!("an answer from nowhere"),
    }
}

#[tokio::test]
async fn the_request_goes_out_in_wire_form() {
    let (conn, origin) = connected(|mut socket| async move {
        let head = read_head(&mut socket).await;
        let mut body = [0u8; 5];
        socket.read_exact(&mut body).await.unwrap();
        assert_eq!(
            head,
            "POST /form?x=1 HTTP/1.1\r\nhost: origin\r\ncontent-length: 5\r\n\r\n"
        );
        assert_eq!(&body, b"hello");
        socket
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .unwrap();
    })
    .await;
    let request = Request::post("/form?x=1")
        .header("host", "origin")
        .body(crate::compress::full("hello"))
        .unwrap();
    let response = exchange(conn, request).await;
    assert_eq!(response.status(), 204);
    origin.await.unwrap();
}

/// Whether the connection went back to the pool after an answer `wire`.
async fn pooled_after(wire: &'static [u8]) -> bool {
    let conn = answered(wire, false).await;
    let pool = pool();
    let response = match conn.exchange(get("/"), &pool).await {
        Ok(response) => response,
        Err(Failure::Unsent(_, e) | Failure::Failed(e)) => panic!("exchange failed: {e}"),
    };
    response.into_body().collect().await.unwrap();
    pool.take().is_some()
}

#[tokio::test]
async fn only_a_connection_left_clean_goes_back_to_the_pool() {
    assert!(pooled_after(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await);
    assert!(
        pooled_after(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
            .await
    );
    assert!(
        !pooled_after(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokSTRAY").await,
        "bytes after the answer"
    );
    assert!(
        !pooled_after(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok").await,
        "the origin said close"
    );
    assert!(
        !pooled_after(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n").await,
        "ambiguous framing"
    );
}
