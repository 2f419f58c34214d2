-- The legacy shop's database, as the old application left it: customers and their orders.
-- Two columns are added for the write-back (docs/sinks.md): the version of the last change a
-- sink wrote, and a tombstone flag. Nothing else of the old schema changes.
CREATE TABLE customers (
  id    integer PRIMARY KEY,
  name  text NOT NULL,
  email text NOT NULL
);
CREATE TABLE orders (
  id          integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  total       numeric(10, 2) NOT NULL,
  status      text NOT NULL,
  _junction_version text,
  _junction_deleted boolean NOT NULL DEFAULT false
);
-- Full before images, so an update's event says what the order was.
ALTER TABLE orders REPLICA IDENTITY FULL;

INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Brian', 'brian@example.com');
INSERT INTO orders (id, customer_id, total, status) VALUES
  (100, 1, 25.00, 'shipped'),
  (101, 2, 12.50, 'shipped');

-- What change capture streams.
CREATE PUBLICATION legacy_pub FOR TABLE customers, orders;
