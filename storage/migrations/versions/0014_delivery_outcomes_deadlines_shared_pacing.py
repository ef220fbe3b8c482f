"""delivery: message kind, deadline, in-doubt marker on the outbox; shared rate buckets

Revision ID: 0014_delivery
Revises: 0010_offices
Create Date: 2026-11-29 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0014_delivery'
down_revision = '0012_i18n'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('in_doubt_since', storage.types.UTCDateTime(timezone=True), nullable=True))
    # Rows left "in flight" by the old worker (attempted, outcome unknown) keep that meaning.
    op.execute(
        "UPDATE outbox SET in_doubt_since = next_attempt_at "
        "WHERE last_error = 'in flight' AND status IN ('sending', 'pending')"
    )
    op.create_table('rate_buckets',
    sa.Column('bucket', sa.String(length=300), nullable=False),
    sa.Column('stamps', storage.types.JSONType(), nullable=False),
    sa.Column('paused_until', sa.Float(), nullable=False),
    sa.Column('touched_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_rate_buckets'))
    )


    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PACE_TAKE)


PACE_TAKE = """
CREATE OR REPLACE FUNCTION learnbot_pace_take(buckets text[], counts integer[], pers double precision[])
RETURNS double precision
LANGUAGE plpgsql AS $$
-- Shared pacing (scheduler/ratelimit.py): count one send in every bucket's sliding window if
-- they all allow it now and return 0; otherwise take nothing and return the seconds to wait.
-- One statement, so the rows stay locked for microseconds, not for client round trips.
DECLARE
    now_s double precision;
    wait double precision := 0;
    kept double precision[];
    paused double precision;
    n integer := coalesce(array_length(buckets, 1), 0);
BEGIN
    INSERT INTO rate_buckets (bucket, stamps, paused_until, touched_at)
    SELECT b, '[]'::jsonb, 0, 0 FROM unnest(buckets) AS b ORDER BY b
    ON CONFLICT (bucket) DO NOTHING;
    PERFORM 1 FROM rate_buckets WHERE bucket = ANY(buckets) ORDER BY bucket FOR UPDATE;
    now_s := extract(epoch from clock_timestamp());
    FOR i IN 1..n LOOP
        SELECT ARRAY(
                   SELECT s FROM (SELECT x::double precision AS s FROM jsonb_array_elements_text(r.stamps) AS x) t
                   WHERE s > now_s - pers[i] ORDER BY s
               ),
               r.paused_until
          INTO kept, paused
          FROM rate_buckets r WHERE r.bucket = buckets[i];
        IF paused > now_s THEN
            wait := greatest(wait, paused - now_s);
        ELSIF coalesce(array_length(kept, 1), 0) >= counts[i] THEN
            wait := greatest(wait, kept[array_length(kept, 1) - counts[i] + 1] + pers[i] - now_s, 0.001);
        END IF;
    END LOOP;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    FOR i IN 1..n LOOP
        UPDATE rate_buckets r
           SET stamps = (
                   SELECT coalesce(jsonb_agg(s ORDER BY s), '[]'::jsonb) FROM (
                       SELECT s FROM (
                           SELECT x::double precision AS s FROM jsonb_array_elements_text(r.stamps) AS x
                           UNION ALL SELECT now_s
                       ) a WHERE s > now_s - pers[i] ORDER BY s DESC LIMIT counts[i]
                   ) b
               ),
               touched_at = now_s
         WHERE r.bucket = buckets[i];
    END LOOP;
    RETURN 0;
END;
$$
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS learnbot_pace_take(text[], integer[], double precision[])")
    op.drop_table('rate_buckets')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('in_doubt_since')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('kind')
