"""Row counts as a mysqldump holds them, counted from the stream (strings holding `),(`, quotes, newlines)."""

from __future__ import annotations

from services.backup.adapters.row_counts import DumpRowCounter

DUMP = rb"""-- MariaDB dump 10.19
--
-- Table structure for table `orders`
--

CREATE TABLE `orders` (
  `id` int(11) NOT NULL,
  `item` text DEFAULT NULL
);

--
-- Dumping data for table `orders`
--

LOCK TABLES `orders` WRITE;
INSERT INTO `orders` VALUES (1,'tea'),(2,'a),(b'),(3,'it\'s \\'),(4,'line\nbreak'),(5,NULL);
INSERT INTO `orders` VALUES (6,'x');
UNLOCK TABLES;

--
-- Dumping data for table `empty``one`
--

LOCK TABLES `empty``one` WRITE;
UNLOCK TABLES;
--
-- Temporary table structure for view `v`
--
"""


def _counted(chunk_size: int) -> dict[str, int]:
    counter = DumpRowCounter()
    for start in range(0, len(DUMP), chunk_size):
        counter.feed(memoryview(DUMP[start : start + chunk_size]))
    return counter.counts()


def test_each_tuple_of_each_insert_is_a_row_and_strings_hide_their_contents() -> None:
    assert _counted(len(DUMP)) == {"orders": 6, "empty`one": 0}


def test_chunks_that_cut_lines_anywhere_count_the_same() -> None:
    assert all(_counted(size) == {"orders": 6, "empty`one": 0} for size in (1, 2, 3, 7, 64))


def test_a_dump_ending_without_a_newline_counts_its_last_line() -> None:
    counter = DumpRowCounter()
    counter.feed(memoryview(b"INSERT INTO `t` VALUES (1),(2);"))
    assert counter.counts() == {"t": 2}


MARIADB_DUMP = b"""-- Dumping data for table `o`
--

LOCK TABLES `o` WRITE;
INSERT INTO `o` VALUES
(1,'a\\nb'),
(2,'it\\'s ),( (x'),
(3,NULL);
/*!40000 ALTER TABLE `o` ENABLE KEYS */;
INSERT INTO `o` VALUES
(4,'d');
UNLOCK TABLES;
"""


def test_mariadbs_one_tuple_a_line_inserts_count_the_same() -> None:
    for size in (1, 5, len(MARIADB_DUMP)):
        counter = DumpRowCounter()
        for start in range(0, len(MARIADB_DUMP), size):
            counter.feed(memoryview(MARIADB_DUMP[start : start + size]))
        assert counter.counts() == {"o": 4}
