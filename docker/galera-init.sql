-- Run once by the MariaDB image on the first node's first start (docker-entrypoint-initdb.d):
-- the state-transfer user. mariabackup SST authenticates as the server's own OS user through
-- the unix socket (wsrep_sst_auth=mysql:), so no SST password exists to leak.
CREATE USER IF NOT EXISTS 'mysql'@'localhost' IDENTIFIED VIA unix_socket;
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mysql'@'localhost';
