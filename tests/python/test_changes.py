#!/usr/bin/env python3
"""Changing rows through Kinetica's Python client: delete, update and primary keys, against pandas.

Usage: test_changes.py PATH/TO/gpudb-engine

Starts two servers over HTTP, each with a data directory: one with one host device and one with
three (--spread-chunk-rows=50, so that these small tables spread). On both, with the official
client (gpudb.GPUdbTable, default settings), the same steps run against a primary-keyed table
(sharded by its key), a table without a key (spread) and a replicated one, and after every step
the whole table (get_records) must equal a pandas DataFrame changed the same way:

- delete_records with several expressions, a global_expression, nulls in the expressions; the
  counts per expression (each row counted under the first expression it matches);
- update_records with literals, nulls, expressions of the old row (use_expressions_in_new_values_maps),
  several expressions with one map each; counts per expression;
- primary keys: an insert of an existing key fails naming the key and the record; a batch holding
  one key twice fails; ignore_existing_pk skips them; update_on_existing_pk replaces the rows; an
  update giving a row another row's key fails and changes nothing;
- bad requests (an unknown column, a view as the target, a literal of the wrong type) fail naming
  the field, and change nothing;
- /alter/table: add_column with a default value and without (nullable), change_column widening
  an int to a long and a double to a string and renaming it, a change refused by
  validate_change_column (and accepted with nulls without it), delete_column, rename_table; the
  table keeps its key (an insert of an existing key still fails) and takes inserts of its new type;
- eight clients at once, each inserting, updating, upserting and deleting rows of its own key
  range of one keyed table while two others read it: every call answers, and the table ends as
  the clients' changes say;
- a restart of each server after a kill (its log replayed) gives back the same rows.

Needs gpudb, pandas, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import json
import os
import random
import sys

from harness import check, run_main, start_server  # tests/python/harness.py

COLUMNS = [["id", "int", "primary_key"], ["k", "int", "primary_key", "shard_key"], ["s", "string", "nullable"],
           ["x", "double", "nullable"], ["tag", "string", "char8"]]
PLAIN = [["id", "int"], ["k", "int"], ["s", "string", "nullable"], ["x", "double", "nullable"],
         ["tag", "string", "char8"]]


def make_rows(first, n, rng):
    rows = []
    for i in range(first, first + n):
        rows.append([i, i % 7, None if i % 11 == 0 else "s%d" % (i % 13),
                     None if i % 17 == 0 else round(rng.uniform(-50, 50), 3), "t%d" % (i % 5)])
    return rows


def frame(rows):
    import pandas as pd
    return pd.DataFrame(rows, columns=[c[0] for c in COLUMNS])


def same(table, ref, what):
    """The table's rows (get_records; to_df needs SQL) equal the reference's, ordered by id."""
    import pandas as pd
    records = table.get_records(0, 100000)
    got = pd.DataFrame([[r[c[0]] for c in COLUMNS] for r in records], columns=[c[0] for c in COLUMNS])
    got = got.sort_values("id").reset_index(drop=True)
    want = ref.sort_values("id").reset_index(drop=True)
    check(len(got) == len(want), "%s: %d rows, expected %d" % (what, len(got), len(want)))
    if len(got) != len(want):
        return
    for col in ["id", "k", "s", "x", "tag"]:
        a = [None if v is None or (isinstance(v, float) and v != v) else v for v in got[col].tolist()]
        b = [None if v is None or (isinstance(v, float) and v != v) else v for v in want[col].tolist()]
        if col == "x":
            bad = [i for i, (p, q) in enumerate(zip(a, b))
                   if (p is None) != (q is None) or (p is not None and abs(p - q) > 1e-9)]
        else:
            bad = [i for i, (p, q) in enumerate(zip(a, b)) if p != q]
        check(not bad, "%s: column %s differs at %d rows, first id %s: %r vs %r" % (
            what, col, len(bad), got["id"][bad[0]] if bad else None, a[bad[0]] if bad else None,
            b[bad[0]] if bad else None))


def fails(fn, words, what):
    """fn() fails with a message holding every word of `words`."""
    try:
        r = fn()
        # GPUdb's own methods answer with the error; GPUdbTable's raise it.
        if not (isinstance(r, dict) and r.get("status_info", {}).get("status") == "ERROR"):
            check(False, "%s: no error" % what)
            return
        msg = r["status_info"]["message"]
    except Exception as e:  # gpudb raises GPUdbException
        msg = str(e)
    check(all(w in msg for w in words), "%s: error %r does not name %r" % (what, msg, words))


def steps(db, gpudb, name, columns, options, keyed):
    import pandas as pd
    rng = random.Random(7)
    rows = make_rows(0, 3000, rng)
    table = gpudb.GPUdbTable(columns, name=name, db=db, options=options)
    for begin in range(0, len(rows), 700):
        table.insert_records(rows[begin:begin + 700])
    ref = frame(rows)
    same(table, ref, name + " inserted")

    # Deletes: two expressions and a global one; each row counted under its first expression.
    r = db.delete_records(name, ["x < -40", "k = 3 or x < -40", "s is null"],
                          options={"global_expression": "id >= 100"})
    scope = ref["id"] >= 100
    first = scope & (ref["x"] < -40)
    second = scope & ~first & (ref["k"] == 3)
    third = scope & ~first & ~second & ref["s"].isna()
    check(r["counts_deleted"] == [int(first.sum()), int(second.sum()), int(third.sum())],
          "%s: counts_deleted %r" % (name, r["counts_deleted"]))
    check(r["count_deleted"] == int((first | second | third).sum()), "%s: count_deleted" % name)
    ref = ref[~(first | second | third)]
    same(table, ref, name + " after delete")
    r = table.delete_records(["id < 0"])  # GPUdbTable's own method
    check(r["count_deleted"] == 0, "%s: a delete of nothing deleted %r" % (name, r["count_deleted"]))

    # Updates: a literal, a null, an expression of the old row; two expressions.
    r = table.update_records(["k = 1", "k = 2 or k = 1"], [{"tag": "one", "x": None}, {"s": "two"}])
    one, two = ref["k"] == 1, (ref["k"] == 2)
    check(r["counts_updated"] == [int(one.sum()), int(two.sum())], "%s: counts_updated %r" % (name, r["counts_updated"]))
    ref = ref.copy()
    ref.loc[one, "tag"] = "one"
    ref.loc[one, "x"] = float("nan")
    ref.loc[two, "s"] = "two"
    same(table, ref, name + " after literal updates")
    r = db.update_records(name, ["x > 0"], [{"x": "x * 2 + k", "s": "tag"}],
                          options={"use_expressions_in_new_values_maps": "true"})
    pos = ref["x"] > 0
    check(r["count_updated"] == int(pos.sum()), "%s: count_updated %r" % (name, r["count_updated"]))
    ref.loc[pos, "x"] = ref.loc[pos, "x"] * 2 + ref.loc[pos, "k"]
    ref.loc[pos, "s"] = ref.loc[pos, "tag"]
    same(table, ref, name + " after expression updates")

    # Bad requests change nothing.
    fails(lambda: db.update_records(name, ["k = 0"], [{"nope": "1"}]), ["new_values_maps[0].nope", "unknown column"],
          name + ": an unknown column")
    fails(lambda: db.update_records(name, ["k = 0"], [{"k": "abc"}]), ["new_values_maps[0].k"],
          name + ": a literal that is no int")
    fails(lambda: db.delete_records(name, ["nope > 1"]), ["expressions[0]", "nope"], name + ": a bad expression")
    same(table, ref, name + " after refused requests")

    if keyed:
        extra = make_rows(5000, 3, rng)
        existing = ref.iloc[0].tolist()
        existing = [int(existing[0]), int(existing[1]), existing[2] if isinstance(existing[2], str) else None,
                    None, "dup"]
        fails(lambda: table.insert_records(extra + [existing]),
              ["list[3]", "(id=%d, k=%d)" % (existing[0], existing[1]), "already exists"],
              name + ": an existing key")
        fails(lambda: table.insert_records([extra[0], extra[0]]), ["list[1]", "id=5000"], name + ": a key twice")
        same(table, ref, name + " after refused inserts")
        table2 = gpudb.GPUdbTable(None, name=name, db=db)
        table2.insert_records(extra + [existing], options={"ignore_existing_pk": "true"})
        ref = pd.concat([ref, frame(extra)], ignore_index=True)
        same(table, ref, name + " after ignore_existing_pk")
        changed = list(existing)
        changed[4] = "new"
        table2.insert_records([changed, changed[:4] + ["newer"]], options={"update_on_existing_pk": "true"})
        ref.loc[ref["id"] == existing[0], "tag"] = "newer"
        same(table, ref, name + " after update_on_existing_pk")
        # Two rows of one k (the shard key): one takes the other's id.
        a, b = ref[ref["k"] == 4]["id"].tolist()[:2]
        fails(lambda: db.update_records(name, ["id = %d" % a], [{"id": str(b)}]),
              ["primary key", "(id=%d, k=4)" % b], name + ": an update to another row's key")
        fails(lambda: db.update_records(name, ["id = %d" % a], [{"k": "5"}]), ["new_values_maps[0].k", "shard key"],
              name + ": an update of the shard key")
        r = db.update_records(name, ["id = %d" % a], [{"id": "99999"}])
        check(r["count_updated"] == 1, "%s: key update count %r" % (name, r["count_updated"]))
        ref.loc[ref["id"] == a, "id"] = 99999
        same(table, ref, name + " after a key update")
        # update_on_existing_pk: the row holding the new key goes.
        c, d = ref[ref["k"] == 4]["id"].tolist()[2:4]
        r = db.update_records(name, ["id = %d" % c], [{"id": str(d)}], options={"update_on_existing_pk": "true"})
        check(r["count_updated"] == 1, "%s: replacing key update count %r" % (name, r.get("count_updated")))
        ref = ref[ref["id"] != d].copy()
        ref.loc[ref["id"] == c, "id"] = d
        same(table, ref, name + " after a key update replacing a row")
        fails(lambda: db.update_records(name, ["k = 4"], [{"id": "123456"}]),
              ["expressions[0]", "bypass_safety_checks"], name + ": a key update of many rows")
        # records_to_insert_str: the record of an expression that chose no row goes in.
        e = ref["id"].tolist()[5]
        new = {"id": 77777, "k": 1, "s": "ins", "x": 1.25, "tag": "i"}
        r = db.update_records(name, ["id = -5", "id = %d" % e], [{"tag": "a"}, {"tag": "b"}],
                              records_to_insert_str=[json.dumps(new), json.dumps(dict(new, id=88888))],
                              record_encoding="json")
        check(r["count_updated"] == 1 and r["count_inserted"] == 1 and r["counts_inserted"] == [1, 0],
              "%s: update with records_to_insert: %r" % (name, r))
        ref.loc[ref["id"] == e, "tag"] = "b"
        ref = pd.concat([ref, frame([[77777, 1, "ins", 1.25, "i"]])], ignore_index=True)
        same(table, ref, name + " after an update inserting a record")
    return ref


def alter_steps(db, gpudb, devices):
    """The alterations on a copy of the keyed table; returns the reference (id, k, s2, x, n, note)."""
    import pandas as pd
    rng = random.Random(3)
    rows = make_rows(0, 500, rng)
    t = gpudb.GPUdbTable(COLUMNS, name="altered", db=db)
    t.insert_records(rows)

    def ok(r, what):
        check(r["status_info"]["status"] == "OK", "%s %s: %s" % (devices, what, r["status_info"].get("message")))

    ok(db.alter_table("altered", "add_column", "n", options={"column_type": "int", "column_default_value": "7"}),
       "add_column with a default")
    ok(db.alter_table("altered", "add_column", "note", options={"column_type": "string",
                                                                "column_properties": "char16,nullable"}),
       "add_column without one")
    ok(db.alter_table("altered", "add_column", "twice", options={"column_type": "long",
                                                                  "add_column_expression": "id * 2 + k"}),
       "add_column from an expression")
    bad = [r for r in gpudb.GPUdbTable(None, name="altered", db=db).get_records(0, 100000)
           if r["twice"] != r["id"] * 2 + r["k"]]
    check(not bad, "%s: add_column_expression gave %r" % (devices, bad[:2]))
    ok(db.alter_table("altered", "delete_column", "twice"), "delete_column of it")
    fails(lambda: db.alter_table("altered", "add_column", "m", options={"column_type": "int"}),
          ["options.column_default_value", "'m'"], devices + ": a column without a value")
    ok(db.alter_table("altered", "change_column", "x", options={"column_type": "string",
                                                               "column_properties": "nullable"}),
       "change_column double to string")
    ok(db.alter_table("altered", "change_column", "n", options={"column_type": "long", "rename_column": "n2"}),
       "change_column int to long, renamed")
    fails(lambda: db.alter_table("altered", "change_column", "s", options={"column_type": "int",
                                                                          "column_properties": "nullable"}),
          ["options.column_type", "row"], devices + ": a change the values cannot take")
    ok(db.alter_table("altered", "change_column", "s", options={
        "column_type": "int", "column_properties": "nullable", "validate_change_column": "false"}),
       "change_column to int without validation")
    ok(gpudb.GPUdbTable(None, name="altered", db=db).alter_table("delete_column", "tag"), "delete_column")
    fails(lambda: db.alter_table("altered", "delete_column", "nope"), ["value", "nope"], devices + ": no such column")
    fails(lambda: db.alter_table("altered", "drop_everything", ""), ["action"], devices + ": an unknown action")
    ok(db.alter_table("altered", "rename_table", "altered2"), "rename_table")
    check(not db.has_table("altered")["table_exists"], devices + ": the old name is gone")
    ref = pd.DataFrame({"id": [r[0] for r in rows], "k": [r[1] for r in rows], "s": [None] * len(rows),
                        "x": [None if r[3] is None else repr(r[3]) for r in rows], "n2": [7] * len(rows),
                        "note": [None] * len(rows)})
    t2 = gpudb.GPUdbTable(None, name="altered2", db=db)
    fails(lambda: t2.insert_records([[1, 1, None, None, 1, None]]), ["already exists"], devices + ": the key kept")
    t2.insert_records([[9000, 3, 5, "1.5", 2, "fresh"]])
    ref = pd.concat([ref, pd.DataFrame([[9000, 3, 5, "1.5", 2, "fresh"]], columns=ref.columns)], ignore_index=True)
    same_frame(t2, ref, devices + " altered")
    return ref


def same_frame(table, ref, what):
    """The table's rows equal `ref`'s (columns by name), ordered by id."""
    import pandas as pd
    columns = list(ref.columns)
    records = table.get_records(0, 100000)
    got = pd.DataFrame([[r[c] for c in columns] for r in records], columns=columns).sort_values("id")
    want = ref.sort_values("id")
    a = [tuple(None if v is None or (isinstance(v, float) and v != v) else v for v in row)
         for row in got.itertuples(index=False)]
    b = [tuple(None if v is None or (isinstance(v, float) and v != v) else v for v in row)
         for row in want.itertuples(index=False)]
    check(a == b, "%s: %d rows, expected %d; first differing %r vs %r" % (
        what, len(a), len(b), next((p for p, q in zip(a, b) if p != q), None),
        next((q for p, q in zip(a, b) if p != q), None)))


def concurrent_steps(url, gpudb, devices):
    """Eight writers on their own key ranges of one table, two readers; the final table is checked."""
    import threading
    db = gpudb.GPUdb(host=url)
    gpudb.GPUdbTable(COLUMNS, name="busy", db=db)
    errors = []
    done = threading.Event()

    def writer(c):
        try:
            mine = gpudb.GPUdb(host=url)
            t = gpudb.GPUdbTable(None, name="busy", db=mine)
            base = c * 10000
            rows = [[base + i, c % 7, "w%d" % c, float(i), "t"] for i in range(300)]
            for b in range(0, 300, 50):
                t.insert_records(rows[b:b + 50])
            for step in range(5):
                r = mine.update_records("busy", ["id >= %d and id < %d and id %% 2 = 0" % (base, base + 300)],
                                        [{"x": "x + 1"}], options={"use_expressions_in_new_values_maps": "true"})
                if r["count_updated"] != 150:
                    errors.append("client %d update %d: %r" % (c, step, r.get("count_updated")))
            r = mine.delete_records("busy", ["id >= %d and id < %d" % (base + 200, base + 300)])
            if r["count_deleted"] != 100:
                errors.append("client %d delete: %r" % (c, r.get("count_deleted")))
            t.insert_records([[base + 1, c % 7, "up", -1.0, "u"]], options={"update_on_existing_pk": "true"})
        except Exception as e:  # noqa: BLE001
            errors.append("client %d: %s" % (c, e))

    def reader():
        mine = gpudb.GPUdb(host=url)
        while not done.is_set():
            r = mine.aggregate_statistics("busy", "x", "count")
            if r["status_info"]["status"] != "OK":
                errors.append("reader: %s" % r["status_info"]["message"])

    writers = [threading.Thread(target=writer, args=(c,)) for c in range(8)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in writers + readers:
        t.start()
    for t in writers:
        t.join(120)
    done.set()
    for t in readers:
        t.join(30)
    check(not errors, "%s concurrent changes: %s" % (devices, errors[:3]))
    import pandas as pd
    want = []
    for c in range(8):
        base = c * 10000
        for i in range(200):
            x = float(i) + (5 if i % 2 == 0 else 0)
            row = [base + i, c % 7, "w%d" % c, x, "t"]
            if i == 1:
                row = [base + 1, c % 7, "up", -1.0, "u"]
            want.append(row)
    same(gpudb.GPUdbTable(None, name="busy", db=db), pd.DataFrame(want, columns=[c[0] for c in COLUMNS]),
         devices + " busy after concurrent changes")


def run(binary, work, pb, rpc):
    import gpudb
    servers = []
    try:
        for devices in ("host:1", "host:3"):
            data = os.path.join(work, devices.replace(":", "_"))
            args = ["--devices=" + devices, "--spread-chunk-rows=50", "--data-dir=" + data]
            server = start_server(binary, args, http=True)
            servers.append((server, args))
            db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
            refs = {
                "keyed": steps(db, gpudb, "keyed", COLUMNS, None, True),
                "plain": steps(db, gpudb, "plain", PLAIN, None, False),
                "copies": steps(db, gpudb, "copies", PLAIN, {"is_replicated": "true"}, False),
            }
            altered = alter_steps(db, gpudb, devices)
            concurrent_steps("http://127.0.0.1:%d" % server.http_port, gpudb, devices)
            fails(lambda: db.filter("plain", "plain_view", "k = 1") and db.delete_records("plain_view", ["k = 1"]),
                  ["table_name", "view"], devices + ": a delete from a view")
            server.kill()  # no checkpoint at exit: the restart replays the log's changes
            again = start_server(binary, args, http=True)
            servers[-1] = (again, args)
            db = gpudb.GPUdb(host="http://127.0.0.1:%d" % again.http_port)
            for name, ref in refs.items():
                same(gpudb.GPUdbTable(None, name=name, db=db), ref, "%s %s after a restart" % (devices, name))
            same_frame(gpudb.GPUdbTable(None, name="altered2", db=db), altered, devices + " altered2 after a restart")
            again.stop()
    finally:
        for server, _ in servers:
            server.kill_if_running()


if __name__ == "__main__":
    sys.exit(run_main(__doc__, "python_changes", ["gpudb", "pandas"], "gpudb, pandas, grpcio and grpcio-tools", run))
