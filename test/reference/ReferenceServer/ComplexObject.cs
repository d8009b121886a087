namespace ReferenceServer;

/// <summary>ASP.NET Core's functional-test ComplexObject; the .NET client interop program compiles this same file.</summary>
public sealed class ComplexObject
{
    public string String { get; set; } = "";
    public int[] IntArray { get; set; } = [];
    public byte[] ByteArray { get; set; } = [];
    public Guid Guid { get; set; }
    public DateTime DateTime { get; set; }
}
