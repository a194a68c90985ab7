import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { MetricsService } from './metrics.service';

/** Prometheus metrics of the whole system (text exposition format) at `/metrics`. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  async scrape(@Res() res: Response) {
    const { contentType, text } = await this.metrics.scrape();
    res.status(200).type(contentType).send(text);
  }
}
