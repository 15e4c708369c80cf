namespace Coordination;

/// <summary>
/// The ACL of the nodes the library creates once the ZooKeeper session has an identity (<c>Coordination:ZooKeeperAuth</c>
/// or a client certificate): the creating identity may do everything, <see cref="AdminIdentities"/> too, everyone else
/// may only read (<see cref="WorldReadable"/>). Without an identity nodes stay open to everyone (world:anyone, all rights).
/// </summary>
public sealed class ZooKeeperAclOptions
{
    /// <summary>
    /// More identities with all rights on every node the library creates, each <c>scheme:id</c> as ZooKeeper ACLs name
    /// them: <c>digest:ops:&lt;base64 sha1 of ops:password&gt;</c>, <c>x509:CN=orders-2,O=Example</c>, <c>sasl:ops</c>,
    /// <c>ip:10.0.0.0/8</c>. For instances that use their own identities, and for operators. Empty by default.
    /// </summary>
    public IList<string> AdminIdentities { get; } = new List<string>();

    /// <summary>Everyone else may read (data, children, ACL): dashboards, other clients, kazoo. On by default; off: others get no right at all.</summary>
    public bool WorldReadable { get; set; } = true;

    /// <inheritdoc />
    public override string ToString() => $"AdminIdentities=[{string.Join(", ", AdminIdentities)}], WorldReadable={WorldReadable}";
}
