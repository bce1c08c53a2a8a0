// pgJDBC against the wire server: DatabaseMetaData, a prepared statement executed past
// prepareThreshold (named statement, binary parameters and results) with a fetch size (PortalSuspended).
// Run by tests/pgwire/test_jdbc.py with `java -cp postgresql.jar JdbcCheck.java PORT USER PASSWORD SCHEMA TABLE`.
import java.sql.*;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/lowcode";
        try (Connection c = DriverManager.getConnection(url, args[1], args[2])) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product=" + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            try (ResultSet rs = md.getSchemas()) { while (rs.next()) System.out.println("schema=" + rs.getString("TABLE_SCHEM")); }
            try (ResultSet rs = md.getTables(null, args[3], "%", new String[]{"TABLE"})) {
                while (rs.next()) System.out.println("table=" + rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
            }
            try (ResultSet rs = md.getColumns(null, args[3], args[4], "%")) {
                while (rs.next()) System.out.println("column=" + rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":" + rs.getInt("DATA_TYPE"));
            }
            try (ResultSet rs = md.getPrimaryKeys(null, args[3], args[4])) { int n = 0; while (rs.next()) n++; System.out.println("pks=" + n); }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT label, n FROM " + args[3] + ".big WHERE n < ? ORDER BY n")) {
                ps.setFetchSize(100);
                for (int i = 0; i < 7; i++) {
                    ps.setInt(1, 250);
                    int rows = 0; String last = null;
                    try (ResultSet rs = ps.executeQuery()) { while (rs.next()) { rows++; last = rs.getString(1); } }
                    if (i == 6) System.out.println("rows=" + rows + " last=" + last);
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), 10 / 4 FROM " + args[3] + ".item")) {
                rs.next(); System.out.println("count=" + rs.getLong(1) + " div=" + rs.getInt(2) + " name=" + rs.getMetaData().getColumnName(1));
            }
            // result metadata: the table of a column read from one (RowDescription's table OID + column number)
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT name, 1 AS one, t.price FROM " + args[3] + "." + args[4] + " t")) {
                ResultSetMetaData m = rs.getMetaData();
                System.out.println("tables=" + m.getTableName(1) + "," + m.getTableName(2) + "," + m.getTableName(3) + " schema=" + ((org.postgresql.PGResultSetMetaData) m).getBaseSchemaName(1)
                                   + " base=" + ((org.postgresql.PGResultSetMetaData) m).getBaseColumnName(3));
            }
            // setDate / setTimestamp go out untyped as "2023-12-31 +00" / "2024-05-01 00:00:00+00" (TimestampUtils)
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM " + args[3] + "." + args[4] + " WHERE day = ?")) {
                ps.setDate(1, java.sql.Date.valueOf("2023-12-31"));
                try (ResultSet rs = ps.executeQuery()) { rs.next(); System.out.println("setDate=" + rs.getString(1)); }
                ps.setObject(1, java.time.LocalDate.of(2024, 1, 1));
                try (ResultSet rs = ps.executeQuery()) { rs.next(); System.out.println("setObject=" + rs.getString(1)); }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + args[3] + "." + args[4] + " WHERE seen >= ?")) {
                ps.setTimestamp(1, java.sql.Timestamp.valueOf("2024-02-01 00:00:00"));
                try (ResultSet rs = ps.executeQuery()) { rs.next(); System.out.println("setTimestamp=" + rs.getLong(1)); }
            }
            c.commit();
        }
    }
}
