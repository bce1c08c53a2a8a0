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
            everyMetadataCall(md, args[3], args[4]);
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
    interface Call { ResultSet run() throws SQLException; }

    // One line per DatabaseMetaData call a tool's browser makes (issue 14): "md NAME rows=N first=COL|COL"
    // with the column named, or "md NAME error=..." when the driver's SQL failed on the server.
    static void meta(String name, String col, Call call) {
        try (ResultSet rs = call.run()) {
            int n = 0; StringBuilder vals = new StringBuilder();
            while (rs.next()) { n++; if (col != null && vals.length() < 4000) vals.append(rs.getString(col)).append('|'); }
            System.out.println("md " + name + " rows=" + n + " cols=" + rs.getMetaData().getColumnCount()
                               + (col == null ? "" : " " + col + "=" + vals));
        } catch (SQLException e) {
            System.out.println("md " + name + " error=" + e.getMessage().replace('\n', ' '));
        }
    }

    static void everyMetadataCall(DatabaseMetaData md, String schema, String table) {
        meta("getCatalogs", "TABLE_CAT", md::getCatalogs);
        meta("getSchemas", "TABLE_SCHEM", () -> md.getSchemas(null, schema));
        meta("getTableTypes", "TABLE_TYPE", md::getTableTypes);
        meta("getTables", "TABLE_NAME", () -> md.getTables(null, schema, "%", null));
        meta("getTablesViews", "TABLE_NAME", () -> md.getTables(null, schema, "%", new String[]{"VIEW"}));
        meta("getTablesNamed", "TABLE_NAME", () -> md.getTables(null, null, table, new String[]{"TABLE", "VIEW"}));
        meta("getColumns", "COLUMN_NAME", () -> md.getColumns(null, schema, table, null));
        meta("getColumnsTypes", "TYPE_NAME", () -> md.getColumns(null, schema, table, null));
        meta("getPrimaryKeys", "COLUMN_NAME", () -> md.getPrimaryKeys(null, schema, table));
        meta("getImportedKeys", "FKCOLUMN_NAME", () -> md.getImportedKeys(null, schema, table));
        meta("getExportedKeys", "FKCOLUMN_NAME", () -> md.getExportedKeys(null, schema, table));
        meta("getCrossReference", "FKCOLUMN_NAME", () -> md.getCrossReference(null, schema, table, null, schema, "big"));
        meta("getIndexInfo", "INDEX_NAME", () -> md.getIndexInfo(null, schema, table, false, true));
        meta("getTypeInfo", "TYPE_NAME", md::getTypeInfo);
        meta("getFunctions", "FUNCTION_NAME", () -> md.getFunctions(null, schema, null));
        meta("getFunctionColumns", "COLUMN_NAME", () -> md.getFunctionColumns(null, schema, null, null));
        meta("getProcedures", "PROCEDURE_NAME", () -> md.getProcedures(null, schema, null));
        meta("getProcedureColumns", "COLUMN_NAME", () -> md.getProcedureColumns(null, schema, null, null));
        meta("getColumnPrivileges", "PRIVILEGE", () -> md.getColumnPrivileges(null, schema, table, null));
        meta("getTablePrivileges", "PRIVILEGE", () -> md.getTablePrivileges(null, schema, table));
        meta("getBestRowIdentifier", "COLUMN_NAME", () -> md.getBestRowIdentifier(null, schema, table, DatabaseMetaData.bestRowSession, true));
        meta("getVersionColumns", "COLUMN_NAME", () -> md.getVersionColumns(null, schema, table));
        meta("getUDTs", "TYPE_NAME", () -> md.getUDTs(null, schema, null, null));
    }
}
