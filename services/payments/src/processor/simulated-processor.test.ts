import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import { databaseKinds } from '@microshop/platform/testing/databases'
import { openSimulatedProcessorDatabase } from '../testing/simulated-processor-database.ts'
import { TransientProcessorError, type ChargeRequest } from './payment-processor.ts'
import { SimulatedProcessor, type SimulatedProcessorTables } from './simulated-processor.ts'

const usd = (amount: number) => ({ amount, currency: 'USD' })

describe.each(databaseKinds)('simulated processor on %s', (kind) => {
  let database: Database<SimulatedProcessorTables>
  let close: () => Promise<void>
  let processor: SimulatedProcessor

  beforeAll(async () => {
    ;({ database, close } = await openSimulatedProcessorDatabase(kind))
    processor = new SimulatedProcessor(database.db)
  })
  afterAll(() => close())

  const charge = (paymentMethod: string, overrides: Partial<ChargeRequest> = {}) =>
    processor.charge({
      idempotencyKey: randomUUID(),
      amount: usd(1500),
      paymentMethod,
      ...overrides,
    })
  const chargesUnder = async (idempotencyKey: string) =>
    (
      await database.db
        .selectFrom('simulatedProcessorCharges')
        .selectAll()
        .where('idempotencyKey', '=', idempotencyKey)
        .execute()
    ).length

  it.each(['pm_card_visa', 'pm_card_mastercard'])(
    'when %s is charged, then the charge succeeds with a charge id',
    async (paymentMethod) => {
      const result = await charge(paymentMethod)
      expect(result.status).toBe('succeeded')
      expect(result.status === 'succeeded' && result.chargeId).toMatch(/^ch_sim_/)
    },
  )

  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
    ['pm_card_doesNotExist', 'invalid_payment_method'],
  ])('when %s is charged, then it is declined as %s', async (paymentMethod, reason) => {
    expect(await charge(paymentMethod)).toEqual({ status: 'declined', reason })
  })

  it('when pm_card_chargeDeclinedProcessingError is charged, then every try fails transiently and nothing is recorded', async () => {
    const idempotencyKey = randomUUID()
    for (let i = 0; i < 3; i++) {
      await expect(
        charge('pm_card_chargeDeclinedProcessingError', { idempotencyKey }),
      ).rejects.toBeInstanceOf(TransientProcessorError)
    }
    expect(await chargesUnder(idempotencyKey)).toBe(0)
  })

  it('when a key is charged again, then the first answer comes back and the card is charged once', async () => {
    const idempotencyKey = randomUUID()
    const first = await charge('pm_card_visa', { idempotencyKey })
    const again = await charge('pm_card_visa', { idempotencyKey })
    expect(again).toEqual(first)
    const declined = randomUUID()
    expect(await charge('pm_card_chargeDeclined', { idempotencyKey: declined })).toEqual(
      await charge('pm_card_chargeDeclined', { idempotencyKey: declined }),
    )
    expect(await chargesUnder(idempotencyKey)).toBe(1)
  })

  it('when one key is charged by several callers at once, then they all get the one charge', async () => {
    const idempotencyKey = randomUUID()
    const results = await Promise.all(
      Array.from({ length: 5 }, () => charge('pm_card_visa', { idempotencyKey })),
    )
    expect(
      new Set(results.map((r) => (r.status === 'succeeded' ? r.chargeId : r.reason))).size,
    ).toBe(1)
    expect(await chargesUnder(idempotencyKey)).toBe(1)
  })

  it('when a key is reused for another amount, then the processor refuses it', async () => {
    const idempotencyKey = randomUUID()
    await charge('pm_card_visa', { idempotencyKey })
    await expect(charge('pm_card_visa', { idempotencyKey, amount: usd(1) })).rejects.toThrow(
      /used for another charge/,
    )
  })

  it('when every new call fails transiently, then a recorded charge is still answered', async () => {
    const idempotencyKey = randomUUID()
    const first = await charge('pm_card_visa', { idempotencyKey })
    const failing = new SimulatedProcessor(database.db, { transientFailureRate: 1 })
    await expect(
      failing.charge({
        idempotencyKey: randomUUID(),
        amount: usd(1),
        paymentMethod: 'pm_card_visa',
      }),
    ).rejects.toBeInstanceOf(TransientProcessorError)
    expect(
      await failing.charge({ idempotencyKey, amount: usd(1500), paymentMethod: 'pm_card_visa' }),
    ).toEqual(first)
  })

  it('when latency is set, then every call takes at least that long', async () => {
    const slow = new SimulatedProcessor(database.db, { latencyMs: 60 })
    const started = performance.now()
    await slow.charge({
      idempotencyKey: randomUUID(),
      amount: usd(1),
      paymentMethod: 'pm_card_visa',
    })
    expect(performance.now() - started).toBeGreaterThanOrEqual(55)
  })

  it('when a charge is refunded twice under one key, then it is refunded once', async () => {
    const result = await charge('pm_card_visa')
    if (result.status !== 'succeeded') throw new Error('the charge should succeed')
    const idempotencyKey = randomUUID()
    const refund = { idempotencyKey, chargeId: result.chargeId, amount: usd(1500) }
    const first = await processor.refund(refund)
    expect(first.refundId).toMatch(/^re_sim_/)
    expect(await processor.refund(refund)).toEqual(first)
    await expect(processor.refund({ ...refund, idempotencyKey: randomUUID() })).rejects.toThrow(
      /already refunded/,
    )
  })

  it('when a refund is partial or of a declined charge, then the processor refuses it', async () => {
    const paid = await charge('pm_card_visa')
    if (paid.status !== 'succeeded') throw new Error('the charge should succeed')
    await expect(
      processor.refund({ idempotencyKey: randomUUID(), chargeId: paid.chargeId, amount: usd(100) }),
    ).rejects.toThrow(/whole charge/)
    await expect(
      processor.refund({
        idempotencyKey: randomUUID(),
        chargeId: 'ch_sim_unknown',
        amount: usd(1),
      }),
    ).rejects.toThrow(/No succeeded charge/)
  })

  it('when the processor keeps its records, then no payment method is among them', async () => {
    const idempotencyKey = randomUUID()
    await charge('pm_card_mastercard', { idempotencyKey })
    const row = await database.db
      .selectFrom('simulatedProcessorCharges')
      .selectAll()
      .where('idempotencyKey', '=', idempotencyKey)
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain('mastercard')
  })

  it('when the failure rate is outside 0..1, then the processor will not start', () => {
    expect(() => new SimulatedProcessor(database.db, { transientFailureRate: 1.5 })).toThrow(
      /0\.\.1/,
    )
  })
})
