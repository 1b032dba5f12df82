using Appliance.Masking;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Tests.Masking;

public sealed class MaskedMentionsTests
{
    private static readonly HashSet<string> s_columns = ["email", "card_number"];
    private static readonly HashSet<string> s_tables = ["customers"];

    private static Mentions Find(string sql)
        => MaskedMentions.Find(StatementTokens.Read(System.Text.Encoding.UTF8.GetBytes(sql), SqlLexerOptions.Default)!, s_columns, s_tables);

    [Theory]
    [InlineData("select count(*) from customers", Mentions.None)]
    [InlineData("select count(*), max(id) from customers where id > 1", Mentions.None)]
    [InlineData("select id from public.customers", Mentions.None)]
    [InlineData("select c.id from customers c", Mentions.None)]
    [InlineData("select c.id from customers as c join orders o on o.customer_id = c.id", Mentions.None)]
    [InlineData("select email from customers", Mentions.Column)]
    [InlineData("select \"email\" from customers", Mentions.Column)]
    [InlineData("select upper(x.email) from customers x", Mentions.Column)]
    [InlineData("select c from customers c", Mentions.WholeRow)]
    [InlineData("select to_json(c) from customers as c", Mentions.WholeRow)]
    [InlineData("select row_to_json(customers) from customers", Mentions.WholeRow)]
    [InlineData("select customers::text from customers", Mentions.WholeRow)]
    [InlineData("select 1, customers from customers", Mentions.WholeRow)]
    [InlineData("select id from orders, customers", Mentions.None)]
    [InlineData("select * from customers", Mentions.Star)]
    [InlineData("select json_agg(c.*) from customers c", Mentions.Star)]
    [InlineData("select U&\"\\0065mail\" from customers", Mentions.Column)]
    public void Find_ReportsWhatTheTextCanExpose(string sql, Mentions expected) => Assert.Equal(expected, Find(sql));
}
