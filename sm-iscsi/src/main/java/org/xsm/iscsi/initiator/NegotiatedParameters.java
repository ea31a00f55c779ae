package org.xsm.iscsi.initiator;

/**
 * What login negotiation settled (RFC 7143 section 13), as this initiator uses it.
 *
 * @param maxSendDataSegmentLength the target's MaxRecvDataSegmentLength: the longest data segment
 *     we may send
 * @param firstBurstLength most unsolicited bytes (immediate plus unsolicited Data-Out) per command
 * @param maxBurstLength most bytes per solicited Data-Out sequence or Data-In sequence
 * @param immediateData whether write data may ride in the command PDU
 * @param initialR2T whether the target wants to ask for all data with R2T (no unsolicited Data-Out)
 * @param tsih the session handle the target assigned
 */
public record NegotiatedParameters(
    int maxSendDataSegmentLength,
    int firstBurstLength,
    int maxBurstLength,
    boolean immediateData,
    boolean initialR2T,
    int tsih) {}
