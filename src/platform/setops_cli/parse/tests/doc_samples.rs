//! Outputs copied verbatim from the SetOps documentation (`backup-restore.md`, the "Backup &
//! Restore" page, in order) and from the reference's shapes. Raw strings, so every space and
//! emoji is as printed; do not reformat.

pub const BACKUP_LIST: &str = r#"+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| 6a6fcd7a-7063-4cb4-a748-8f765eea39a2 | CREATED | 2021-04-23T12:03:10Z | 150.8 kB |
| 82a08f8e-3392-4211-ac55-6cd9c2884fa4 | CREATED | 2021-04-27T19:07:25Z |  75.3 MB |
+--------------------------------------+---------+----------------------+----------+
"#;

pub const BACKUP_CREATE: &str = r#"ID:       badbbc84-911b-4eb0-89be-bfc3cea5c6ff
Status:   CREATING
"#;

pub const BACKUP_LIST_BEFORE_RESTORE: &str = r#"+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| e3e7ccb5-26ff-4946-ad5f-9c97118d77a3 | CREATED | 2021-07-15T16:01:53Z | 139.3 kB |
+--------------------------------------+---------+----------------------+----------+
"#;

pub const BACKUP_RESTORE: &str = r#"ID:           e3e7ccb5-26ff-4946-ad5f-9c97118d77a3
Status:       RESTORING
Created At:   2021-04-03T09:41:38Z
Size:         150.8 kB
"#;

pub const BACKUP_UPLOAD: &str = r#"✅ backup.psqlcustom completed (1.47 mB) with ID b3263ac2-f6e0-4227-a3c7-f197603a386c
"#;

pub const BACKUP_LIST_AFTER_UPLOAD: &str = r#"+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| b3263ac2-f6e0-4227-a3c7-f197603a386c | CREATED | 2021-07-15T16:01:53Z | 139.3 kB |
+--------------------------------------+---------+----------------------+----------+
"#;

pub const BACKUP_LIST_BEFORE_DOWNLOAD: &str = r#"+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| 0b10bc93-5ae7-40ef-ba40-e5110ad2d467 | CREATED | 2021-07-15T16:01:53Z | 139.3 kB |
+--------------------------------------+---------+----------------------+----------+
"#;

pub const BACKUP_DOWNLOAD: &str = r#"ID:           0b10bc93-5ae7-40ef-ba40-e5110ad2d467
Status:       CREATED
Created At:   2021-04-03T10:55:53Z
Size:         150.8 kB

✅  0b10bc93-5ae7-40ef-ba40-e5110ad2d467.psqlcustom completed (150.8 kB) with ID 0b10bc93-5ae7-40ef-ba40-e5110ad2d467
"#;

pub const BACKUP_LIST_BEFORE_DESTROY: &str = r#"+--------------------------------------+---------+----------------------+----------+
|                  ID                  | STATUS  |      CREATED AT      |   SIZE   |
+--------------------------------------+---------+----------------------+----------+
| 0b10bc93-5ae7-40ef-ba40-e5110ad2d467 | CREATED | 2021-07-15T16:01:53Z | 139.3 kB |
+--------------------------------------+---------+----------------------+----------+
"#;

pub const BACKUP_DESTROY: &str = r#"ID:           0b10bc93-5ae7-40ef-ba40-e5110ad2d467
Status:       CREATED
Created At:   2021-04-02T10:21:00Z
Size:         150.8 kB
"#;

/// The example stage definition of the reference, section 12.
pub const STAGE_DUMP: &str = r#"schema_version: "1"
project: shop
stage: production
apps:
  web:
    container: {}
    env:
      RAILS_ENV:
        value: production
      SECRET_KEY_BASE:
        value: "{{ .Secrets.SECRET_KEY_BASE }}"
    network:
      protocol: http
      public: true
      ports:
        - 3000
      health_check:
        path: /health
        status: 200-499
    resources:
      cpu: 256
      memory: 512
      scale: 2
    links:
      database:
        env_key: DATABASE_URL
      files:
        path: /data
        read_only: false
services:
  database:
    type: postgresql
    version: "13"
    plan: db.t3.micro
    options:
      min_storage: 20
      max_storage: 100
  files:
    type: volume
notifications: {}
"#;

/// `setops version` as the reference quotes its one documented line, with other lines around it.
pub const VERSION: &str =
    "CLI Version:      1.1.0\nAPI Version:      1.1.0\nCommit:           4b1c2d3\n";

/// `service:info` in the documented shape: `Name:`, `Type:`, `Plan:`, `Links:` lines
/// `-- <app>   (<ENV_KEY>)`, `Options:` lines `-- <option>   <value>`.
pub const SERVICE_INFO: &str = r#"Name:   database
Type:   postgresql11
Plan:   shared
Links:
-- web   (DATABASE_URL)
Options:
-- extensions   uuid-ossp
"#;

/// `changeset:info` in the documented shape: `Created At:` then NAME / ARGUMENTS.
pub const CHANGESET_INFO: &str = r#"Created At:   2021-04-23T12:03:10Z
+------------+---------------+
|    NAME    |   ARGUMENTS   |
+------------+---------------+
| app:create | map[name:web] |
+------------+---------------+
"#;

/// Long argument maps wrap inside their cell (the documented "multi-line cells").
pub const CHANGESET_INFO_WRAPPED: &str = r#"Created At:   2020-10-23T16:46:29+02:00
+-----------------+--------------------------+
|      NAME       |        ARGUMENTS         |
+-----------------+--------------------------+
| app:release:set | map[app:web release:3]   |
| service:create  | map[name:database2       |
|                 | plan:db.t3.micro         |
|                 | type:postgresql13]       |
| app:link:create | map[app:web              |
|                 | env_key:DATABASE_URL     |
|                 | read_only:false          |
|                 | service:database2]       |
+-----------------+--------------------------+
"#;

/// `changeset:commit`: the changeset, the documented progress lines, the success line.
pub const CHANGESET_COMMIT: &str = r#"Created At:   2021-04-23T12:03:10Z
+------------+---------------+
|    NAME    |   ARGUMENTS   |
+------------+---------------+
| app:create | map[name:web] |
+------------+---------------+
◢ Initializing…
◤ Planning…
◣ Applying… (17/28)
Commit successful!
"#;

/// Every sample above, for the tests that feed every sample to every parser.
pub const ALL: &[&str] = &[
    BACKUP_LIST,
    BACKUP_CREATE,
    BACKUP_LIST_BEFORE_RESTORE,
    BACKUP_RESTORE,
    BACKUP_UPLOAD,
    BACKUP_LIST_AFTER_UPLOAD,
    BACKUP_LIST_BEFORE_DOWNLOAD,
    BACKUP_DOWNLOAD,
    BACKUP_LIST_BEFORE_DESTROY,
    BACKUP_DESTROY,
    STAGE_DUMP,
    VERSION,
    SERVICE_INFO,
    CHANGESET_INFO,
    CHANGESET_INFO_WRAPPED,
    CHANGESET_COMMIT,
];
