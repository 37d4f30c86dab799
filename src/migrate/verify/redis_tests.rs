//! The Redis comparison against two real redis-servers started here (loopback, free ports).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub(in crate::migrate::verify) const PASSWORD: &str = "s3cret-verify-pw";

/// A redis-server of this test; killed when dropped. The activity tests start theirs with it.
pub(in crate::migrate::verify) struct Server {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--requirepass", PASSWORD])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): install redis-server (apt-get install redis-server)")
            });
        let mut server = Server {
            child,
            url: format!("redis://:{PASSWORD}@127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.connection().is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not accept connections within 10 s"
            );
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("redis-server on port {port} exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn connection(&self) -> RedisResult<Connection> {
        redis::Client::open(self.url.as_str())?.get_connection_with_timeout(CONNECT_TIMEOUT)
    }

    pub fn run(&self, db: u32, commands: &[&[&str]]) {
        let mut con = self.connection().unwrap();
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        for c in commands {
            redis::cmd(c[0])
                .arg(&c[1..])
                .query::<Value>(&mut con)
                .unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The same data in both servers, inserted in a different order.
fn seed(server: &Server, reversed: bool) {
    let mut db0: Vec<&[&str]> = vec![
        &["SET", "greeting", "hello"],
        &["SET", "bin", "\u{0}\u{1}"],
        &["HSET", "user:1", "name", "Ada", "email", "ada@example.com"],
        &["RPUSH", "queue", "a", "b", "c"],
        &["SADD", "tags", "x", "y", "z"],
        &["ZADD", "board", "1.5", "ann", "2", "bob", "2", "al"],
        &["XADD", "events", "1-1", "kind", "signup"],
        &["SET", "session", "abc", "EX", "3600"],
    ];
    if reversed {
        db0.reverse();
    }
    server.run(0, &db0);
    server.run(3, &[&["SET", "other", "db"]]);
    // Enough keys for several SCAN batches.
    let mut con = server.connection().unwrap();
    let mut pipe = redis::pipe();
    for i in 0..2500 {
        pipe.cmd("SET").arg(format!("bulk:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut con).unwrap();
}

async fn keyspace(server: &Server, label: &str) -> Keyspace {
    measure(&server.url, label).await.unwrap().reached()
}

#[tokio::test]
async fn equal_servers_match_and_every_kind_of_change_shows() {
    let (source, target) = (Server::start(), Server::start());
    seed(&source, false);
    seed(&target, true);
    let a = keyspace(&source, "source").await;
    let b = keyspace(&target, "target").await;
    assert_eq!(Keyspace::differences(&a, &b), vec![]);
    assert_eq!(
        crate::verdict::words::summary_text(&a.summary()),
        "2,509 keys in 2 databases"
    );
    assert_eq!(a.databases[&0].with_ttl, 1);

    // One hash field's value, one list's order, one TTL dropped, one key gone in db3.
    target.run(0, &[&["HSET", "user:1", "email", "ada@example.org"]]);
    let b = keyspace(&target, "target").await;
    let diffs = Keyspace::differences(&a, &b);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0].what, "db0 key names, types and values (digest)");

    target.run(0, &[&["HSET", "user:1", "email", "ada@example.com"]]);
    target.run(0, &[&["DEL", "queue"], &["RPUSH", "queue", "c", "b", "a"]]);
    assert_ne!(keyspace(&target, "target").await, a, "list order counts");

    target.run(0, &[&["DEL", "queue"], &["RPUSH", "queue", "a", "b", "c"]]);
    target.run(0, &[&["PERSIST", "session"]]);
    target.run(3, &[&["DEL", "other"]]);
    let b = keyspace(&target, "target").await;
    let short = |d: &str| d.chars().take(16).collect::<String>();
    assert_eq!(
        crate::verdict::words::rows(&Keyspace::differences(&a, &b)),
        vec![
            ["db0 keys with a TTL".to_owned(), "1".into(), "0".into()],
            [
                "db0 key names, types and values (digest)".to_owned(),
                short(&a.databases[&0].digest),
                short(&b.databases[&0].digest)
            ],
            ["db3 keys".to_owned(), "1".into(), "0".into()],
        ]
    );
}

#[tokio::test]
async fn an_unreachable_or_refusing_server_is_a_reason_without_the_password() {
    let server = Server::start();
    let wrong = server.url.replace(PASSWORD, "wrong-pw-1234");
    let reason = measure(&wrong, "target").await.unwrap().unreachable();
    assert!(
        reason.starts_with("cannot connect to the target's Redis"),
        "{reason}"
    );
    assert!(!reason.contains("wrong-pw-1234"), "{reason}");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("redis://:{PASSWORD}@127.0.0.1:{port}");
    let reason = measure(&refused, "source").await.unwrap().unreachable();
    assert!(!reason.contains(PASSWORD), "{reason}");
}

#[test]
fn info_keyspace_lines_name_the_databases_and_their_keys() {
    let info =
        "# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\ndb12:keys=1,expires=1,avg_ttl=9\r\n";
    assert_eq!(keyspace_keys(info), vec![(0, 3), (12, 1)]);
    assert_eq!(keyspace_keys("# Keyspace\r\n"), vec![]);
}

#[test]
fn a_database_on_one_side_only_counts_as_empty_on_the_other() {
    let one = DatabaseSum {
        keys: 5,
        with_ttl: 0,
        digest: digest_hex(42),
    };
    let a = Keyspace {
        databases: [(1, one)].into(),
        server_version: "6.2.14".to_owned(),
    };
    let b = Keyspace {
        databases: BTreeMap::new(),
        server_version: "6.2.14".to_owned(),
    };
    assert_eq!(
        crate::verdict::words::rows(&Keyspace::differences(&a, &b)),
        vec![["db1 keys", "5", "0"]]
    );
    assert_eq!(
        crate::verdict::words::summary_text(&b.summary()),
        "0 keys in 0 databases"
    );
}
