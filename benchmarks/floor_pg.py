#!/usr/bin/env python3
"""The PostgreSQL floor: the least a Typer CLI over PostgreSQL can cost. A bare
Typer 0.28 app that imports the lightest maintained driver (psycopg2), connects and
reads one row by primary key, so `esc show` on PostgreSQL has a yardstick as the floor
app (benchmarks/yardsticks/floor_app.py) is for SQLite.

FLOOR_PG (environment) is the URI of a database holding
`cases(id, title, state, due_at)` with row 1 (`python floor_pg.py setup` makes it).

  python floor_pg.py show 1      # connect, one row by primary key, print it
  python floor_pg.py setup       # create the table and its row in FLOOR_PG
"""
import os

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True)


def _connect():
    import psycopg2

    return psycopg2.connect(os.environ["FLOOR_PG"])


@app.command()
def show(case_id: int):
    """Print one case (plain text)."""
    con = _connect()
    try:
        cur = con.cursor()
        cur.execute("select id, title, state, due_at from cases where id = %s", (case_id,))
        print(*cur.fetchone(), sep="\t")
    finally:
        con.close()


@app.command()
def setup():
    """Create the floor's table and its one row."""
    con = _connect()
    try:
        cur = con.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS cases (id INTEGER PRIMARY KEY, title TEXT, state TEXT, due_at TEXT)")
        cur.execute("INSERT INTO cases VALUES (1, 'Customer cust0001 reports vpn problem #1', 'open', "
                    "'2026-11-22T16:00:00Z') ON CONFLICT (id) DO NOTHING")
        con.commit()
    finally:
        con.close()


if __name__ == "__main__":
    app()
